"""Commands that share the sandbox take turns: one that loads the state while another holds
it waits, so neither saves over the other's jobs (a `status --watch` beside an `apply`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from engine.sandbox import moto_jobs
from engine.sandbox.runtime import sandbox

from ..conftest import cli_env, make_repo


def _state_jobs(repo: Path) -> set[str]:
    state = json.loads((repo / ".rollouts-sandbox" / "state.json").read_text())
    return {job["jobId"] for jobs in state["regions"].values() for job in jobs}


def test_sandbox__apply_while_another_command_holds_it__waits_and_loses_nothing(
        tmp_path: Path) -> None:
    make_repo(tmp_path, {"fw.yaml": "targets: [thing/dev-1]\ndocument: {v: 1}\n"})
    with sandbox(tmp_path, simulate=True):
        apply = subprocess.Popen(
            [sys.executable, "-m", "engine", "apply", "--sandbox", "--auto-approve",
             "--output", "json"],
            cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        time.sleep(3)  # long enough for an unlocked apply to load, create and save
        assert apply.poll() is None, "apply ran while another command held the sandbox"
        # What this command does to the simulated account meanwhile must survive the apply.
        moto_jobs.backend().create_job(
            job_id="by-the-other-command", targets=["arn:aws:iot:eu-west-1:1:thing/x"],
            document_source=None, document="{}", description=None,
            presigned_url_config=None, target_selection="SNAPSHOT",
            job_executions_rollout_config=None, document_parameters=None, abort_config=None,
            job_execution_retry_config=None, scheduling_config=None, timeout_config=None)
    out, err = apply.communicate(timeout=120)
    assert apply.returncode == 0, err
    created = [c["jobId"] for c in json.loads(out)["data"]["changes"]]
    assert _state_jobs(tmp_path) == {"by-the-other-command", *created}
