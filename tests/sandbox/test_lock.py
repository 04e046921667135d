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


def test_sandbox__server_file_left_by_a_killed_server__command_runs_and_removes_it(
        tmp_path: Path) -> None:
    # A server killed with SIGKILL leaves its `server` file; its lock went with it.
    folder = tmp_path / ".rollouts-sandbox"
    folder.mkdir()
    (folder / "server").write_text("at http://127.0.0.1:1, pid 1\n")
    with sandbox(tmp_path):
        assert not (folder / "server").exists()


def test_lock__held_by_a_server__another_holder_refused_at_once_naming_it(
        tmp_path: Path) -> None:
    import pytest

    from engine.sandbox import lock

    handle = lock.acquire(tmp_path, server="starting")
    lock.announce(tmp_path, "http://127.0.0.1:5000")
    try:
        with pytest.raises(lock.SandboxBusy, match=r"at http://127\.0\.0\.1:5000, pid"):
            lock.acquire(tmp_path)
    finally:
        lock.release(tmp_path, handle, server=True)
    assert not (tmp_path / "server").exists()
    lock.release(tmp_path, lock.acquire(tmp_path))  # free again
