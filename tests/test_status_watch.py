"""`rollouts status` through the CLI on the rollouts AWS never finishes or has not started:
a scheduled job's fleet, a CONTINUOUS job's watch ending (sandbox and a moto server), each
watch run in a subprocess with a timeout so that a watch that never ends fails the test."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .conftest import cli_env, make_repo

WATCH_LIMIT = 60  # seconds: far more than a watch at --interval 0.1 needs to end
CONTINUOUS = "targets: [thinggroup/fleet]\ndocument: {op: x}\ntargetSelection: CONTINUOUS\n"


def _rollouts(*args: str, cwd: Path, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
                          env={**cli_env(), **(env or {})})


def _one_document(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)  # raises on a second document
    assert document["success"] is True
    return document


def _start_time(hours: int) -> str:
    moment = datetime.now(timezone.utc) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_sandbox_status__scheduled_job_on_a_group__its_40_devices_wait_then_move(
        tmp_path: Path) -> None:
    start = _start_time(2)
    make_repo(tmp_path, {"fw.yaml": "targets: [thinggroup/fleet]\ndocument: {op: x}\n"
                                    f"schedulingConfig: {{startTime: '{start}'}}\n"})
    applied = _rollouts("apply", "--sandbox", "--auto-approve", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for _ in range(2):  # each look is a step of the sandbox's devices: none may start
        waiting = _one_document(_rollouts("status", "--sandbox", "-o", "json",
                                          cwd=tmp_path).stdout)["data"]
    (rollout,) = waiting["rollouts"]
    assert (rollout["status"], rollout["phase"], rollout["startTime"]) == \
        ("SCHEDULED", "SCHEDULED", start)
    assert rollout["total"] == 40 and rollout["counts"]["queued"] == 40 and rollout["done"] == 0
    shown = _rollouts("status", "--sandbox", cwd=tmp_path).stdout
    assert "0 of 40 devices finished" in shown and f"at {start} UTC" in shown
    # The watch does not wait months for a start: it ends at once, saying why.
    watched = _rollouts("status", "--sandbox", "--watch", "--interval", "0.1", cwd=tmp_path,
                        timeout=WATCH_LIMIT)
    assert watched.stdout.rstrip().endswith("0 of 1 rollouts finished, 1 scheduled to start "
                                            "later.")

    later = {"ROLLOUTS_SANDBOX_NOW": _start_time(3)}  # the sandbox's clock past the start
    started = _one_document(_rollouts("status", "--sandbox", "-o", "json", cwd=tmp_path,
                                      env=later).stdout)["data"]["rollouts"][0]
    assert started["status"] == "IN_PROGRESS" and started["total"] == 40
    assert started["counts"]["in progress"] > 0 and started["counts"]["queued"] < 40
    ended = _rollouts("status", "--sandbox", "--watch", "--interval", "0.1", "-o", "json",
                      cwd=tmp_path, env=later, timeout=WATCH_LIMIT)
    final = _one_document(ended.stdout)["data"]["rollouts"][0]
    assert final["status"] in ("COMPLETED", "CANCELED") and final["done"] == 40


def test_sandbox_status__bad_clock__config_error() -> None:
    done = _rollouts("status", "--sandbox", "-o", "json", cwd=Path("/tmp"),
                     env={"ROLLOUTS_SANDBOX_NOW": "tomorrow"})
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "CONFIG_ERROR"


def test_sandbox_status_watch__continuous_job__ends_open_with_one_json_document(
        tmp_path: Path) -> None:
    make_repo(tmp_path, {"cfg.yaml": CONTINUOUS})
    assert _rollouts("apply", "--sandbox", "--auto-approve", cwd=tmp_path).returncode == 0
    watched = _rollouts("status", "--sandbox", "--watch", "--interval", "0.1", "-o", "json",
                        cwd=tmp_path, timeout=WATCH_LIMIT)
    assert watched.returncode == 0, watched.stderr
    data = _one_document(watched.stdout)["data"]
    (rollout,) = data["rollouts"]
    assert (rollout["status"], rollout["phase"]) == ("IN_PROGRESS", "OPEN")  # never COMPLETED
    assert rollout["done"] == rollout["total"] == 40
    assert data["summary"]["settled"] is True and data["summary"]["phases"]["OPEN"] == 1
    text = _rollouts("status", "--sandbox", "--watch", "--interval", "0.1", cwd=tmp_path,
                     timeout=WATCH_LIMIT).stdout
    assert text.rstrip().endswith("0 of 1 rollouts finished, 1 open for devices that join.")
    for _ in range(2):  # more looks: the sandbox never completes it
        again = _rollouts("status", "--sandbox", "-o", "json", cwd=tmp_path)
    assert _one_document(again.stdout)["data"]["rollouts"][0]["status"] == "IN_PROGRESS"


def test_status_watch__continuous_job_on_an_endpoint__waits_while_devices_run_then_ends(
        server: str, tmp_path: Path) -> None:
    from engine.sandbox import moto_jobs

    make_repo(tmp_path, {"cfg.yaml": CONTINUOUS})
    endpoint = ("--endpoint-url", server)
    applied = _rollouts("apply", "--auto-approve", "--ledger", "file://ledger.json", *endpoint,
                        cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    (job,) = moto_jobs.backend().jobs.values()  # the server runs in this process
    watch = subprocess.Popen(
        [sys.executable, "-m", "engine", "status", "--watch", "--interval", "0.1", "-o", "json",
         *endpoint], cwd=tmp_path, env=cli_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        assert watch.poll() is None, watch.communicate()  # 40 devices queued: it waits
        # Every device reports, as on AWS; the job itself stays IN_PROGRESS for joiners.
        job.job_process_details.update(numberOfQueuedThings=0, numberOfInProgressThings=0,
                                       numberOfSucceededThings=39, numberOfFailedThings=1)
        stdout, stderr = watch.communicate(timeout=WATCH_LIMIT)
    finally:
        watch.kill()
        watch.wait()
    assert watch.returncode == 0, stderr
    (rollout,) = _one_document(stdout)["data"]["rollouts"]
    assert (rollout["status"], rollout["phase"], rollout["done"]) == ("IN_PROGRESS", "OPEN", 40)
