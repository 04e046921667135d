"""`rollouts status`: counts, rate and abort margins from recorded job states; the bars;
`--watch` ending when every rollout is done; the sandbox's devices moving."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.desired import DesiredJob, NoHashes, desire, desire_waves
from engine.render.status import bar, text
from engine.status import NOT_CREATED, RolloutStatus, rollout_status
from engine.validate import validate_folder

from .conftest import make_repo

RECORDED: dict[str, Any] = {  # DescribeJob's `job`, as AWS returns it mid-rollout
    "jobId": "fw-1a2b3c4d", "status": "IN_PROGRESS",
    "jobProcessDetails": {"numberOfSucceededThings": 60, "numberOfFailedThings": 3,
                          "numberOfRejectedThings": 1, "numberOfTimedOutThings": 2,
                          "numberOfCanceledThings": 0, "numberOfRemovedThings": 0,
                          "numberOfInProgressThings": 14, "numberOfQueuedThings": 20},
    "jobExecutionsRolloutConfig": {"maximumPerMinute": 500, "exponentialRate": {
        "baseRatePerMinute": 20, "incrementFactor": 2.0,
        "rateIncreaseCriteria": {"numberOfSucceededThings": 100}}},
    "abortConfig": {"criteriaList": [
        {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 5.0,
         "minNumberOfExecutedThings": 50},
        {"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 10.0,
         "minNumberOfExecutedThings": 200}]},
}


def _desired(tmp_path: Path) -> DesiredJob:
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "fw.yaml").write_text("targets: [thinggroup/fleet]\ndocument: {op: x}\n")
    (job,) = validate_folder(root).jobs
    return desire(job, project="acme", account="123456789012", region="eu-west-1",
                  commit=None, hashes=NoHashes())


def test_status__counts_rate_and_abort_margins_from_a_recorded_job(tmp_path: Path) -> None:
    s = rollout_status(_desired(tmp_path), RECORDED)
    assert s.total == 100 and s.done == 66
    failed, everything = s.aborts
    assert (failed.failures, failed.executed, failed.armed) == (3, 80, True)
    assert round(failed.percent, 2) == 3.75
    assert (everything.failures, everything.armed) == (6, False)
    assert s.rate == "at most 500/min; from 20/min, x2.0 every 100 succeeded"


def test_status_text__bar_counts_and_margins(tmp_path: Path) -> None:
    out = text([rollout_status(_desired(tmp_path), RECORDED)], unicode=False)
    assert f"[{'#' * 20}{'-' * 10}]  66%  66 of 100 devices finished" in out
    assert "succeeded 60, failed 3, rejected 1, timed out 2, canceled 0, removed 0, " \
           "in progress 14, queued 20" in out
    # the reviewer (newuser) read "(2 of 40 executed)" as 2 executed: it says what it counts
    assert "abort on FAILED at 5%: 3.8% so far (3 failed of 80 executed; armed)" in out
    assert ("abort on ALL at 10%: 7.5% so far (6 failed, rejected or timed out of 80 "
            "executed; armed after 200 executed)") in out
    assert out.endswith("0 of 1 rollouts finished.")


def test_status__not_created_yet(tmp_path: Path) -> None:
    s = rollout_status(_desired(tmp_path), None)
    assert s.status == "NOT_CREATED" and s.terminal
    assert "not created yet" in text([s])


def test_bar__empty_and_full() -> None:
    assert bar(0, 0, 4, unicode=False) == "----"
    assert bar(5, 5, 4, unicode=False) == "####"


def _rollouts(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_sandbox_status_watch__devices_move_and_watch_ends_when_all_done(tmp_path: Path) -> None:
    make_repo(tmp_path, {"fw.yaml": "targets: [thinggroup/fleet, thing/lab-1]\n"
                                    "document: {op: x}\n"})
    assert _rollouts("apply", "--sandbox", "--auto-approve", cwd=tmp_path).returncode == 0
    first = json.loads(_rollouts("status", "--sandbox", "-o", "json", cwd=tmp_path).stdout)
    (rollout,) = first["data"]["rollouts"]
    assert rollout["total"] == 41 and rollout["status"] == "IN_PROGRESS"
    watched = _rollouts("status", "--sandbox", "--watch", "--interval", "0.1", cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.rstrip().endswith("1 of 1 rollouts finished.")
    assert watched.stdout.count("devices finished") >= 3  # it refreshed as devices moved
    last = json.loads(_rollouts("status", "--sandbox", "-o", "json", cwd=tmp_path).stdout)
    final = last["data"]["rollouts"][0]
    assert final["status"] in ("COMPLETED", "CANCELED") and final["done"] == 41


def test_sandbox_devices__a_continuous_job_never_completes(aws: None) -> None:
    from engine.sandbox import devices, moto_jobs

    backend = moto_jobs.backend()
    for job_id, selection in (("snap", "SNAPSHOT"), ("cont", "CONTINUOUS")):
        backend.create_job(job_id=job_id, targets=["arn:aws:iot:eu-west-1:1:thinggroup/g"],
                           document_source=None, document="{}", description=None,
                           presigned_url_config=None, target_selection=selection,
                           job_executions_rollout_config=None, document_parameters=None,
                           abort_config=None, job_execution_retry_config=None,
                           scheduling_config=None, timeout_config=None)
        backend.jobs[job_id].status = "IN_PROGRESS"
    for step in range(20):
        devices.simulate_step("123456789012", "eu-west-1", seed=step)
    assert backend.jobs["snap"].status in ("COMPLETED", "CANCELED")
    assert backend.jobs["cont"].status == "IN_PROGRESS"
    assert backend.jobs["cont"].job_process_details["numberOfQueuedThings"] == 0


def _status(status: str = "IN_PROGRESS", selection: str = "SNAPSHOT", *, name: str = "cfg",
            processing: bool = False, **counts: int) -> RolloutStatus:
    return RolloutStatus(name, f"{name}-1", "eu-west-1", status, counts, "", (), selection,
                         processing=processing)


def test_status_phase__continuous_job_with_every_execution_terminal__open_not_moving() -> None:
    done = _status(selection="CONTINUOUS", succeeded=40, failed=2)
    assert done.phase == "OPEN" and done.settled  # AWS keeps it IN_PROGRESS for joiners
    assert _status(selection="CONTINUOUS").phase == "OPEN"  # an empty group: nothing to wait
    assert _status(selection="CONTINUOUS", succeeded=10, queued=30).moving
    assert _status(selection="CONTINUOUS", succeeded=1, **{"in progress": 1}).moving
    assert _status(selection="CONTINUOUS", processing=True).moving  # counts not all in yet


def test_status_phase__snapshot_job_in_progress__moving_until_aws_finishes_it() -> None:
    assert _status(succeeded=40).moving  # every execution done; AWS completes it next
    assert _status().moving  # just created: nothing counted yet
    assert _status("COMPLETED", succeeded=40).phase == "FINISHED"
    assert _status("CANCELED", canceled=40).phase == "FINISHED"
    assert _status("SCHEDULED", queued=40).phase == "SCHEDULED"
    assert _status("SCHEDULED", queued=40).settled  # its start may be months away


def test_status_summary__text_and_json_agree(tmp_path: Path) -> None:
    from engine.render.status import data

    statuses = [_status(selection="CONTINUOUS", succeeded=40, name="a"),
                _status("COMPLETED", succeeded=3, name="b"),
                _status("SCHEDULED", queued=40, name="c"), rollout_status(_desired(tmp_path), None)]
    body = data(statuses)
    assert body["summary"] == {"rollouts": 4, "finished": 1, "waves": 0, "settled": True,
                               "phases": {
        "ROLLING_OUT": 0, "OPEN": 1, "SCHEDULED": 1, "FINISHED": 1, "NOT_CREATED": 1}}
    assert [r["phase"] for r in body["rollouts"]] == ["OPEN", "FINISHED", "SCHEDULED",
                                                      "NOT_CREATED"]
    out = text(statuses, unicode=False)
    assert out.endswith("1 of 4 rollouts finished, 1 open for devices that join, "
                        "1 scheduled to start later.")
    assert "open: every device so far has finished" in out


def test_status_summary__one_rollout_in_three_waves__counts_one_rollout(tmp_path: Path) -> None:
    from engine.render.status import data

    statuses = [_status("COMPLETED", succeeded=40, name="gw/canary"),
                _status(succeeded=10, queued=30, name="gw/mid"),
                replace(_status(NOT_CREATED, name="gw/all"), job_id=None)]
    assert data(statuses)["summary"] == {
        "rollouts": 1, "finished": 0, "waves": 3, "settled": False, "phases": {
            "ROLLING_OUT": 1, "OPEN": 0, "SCHEDULED": 0, "FINISHED": 1, "NOT_CREATED": 1}}
    assert text(statuses).endswith("0 of 1 rollouts finished (1 of 3 waves).")
    halted = [_status("CANCELED", canceled=40, name="gw/canary"),
              replace(_status(NOT_CREATED, name="gw/all"), job_id=None, halted="canary"),
              _status("COMPLETED", succeeded=3, name="fw")]
    assert data(halted)["summary"]["finished"] == 2  # a halted rollout goes no further
    assert text(halted).endswith("2 of 2 rollouts finished (1 of 2 waves).")


def test_status__wave_not_created__shows_the_abort_criteria_it_will_have(tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "gw.yaml").write_text(
        "document: {op: x}\nabortConfig:\n  criteriaList:\n"
        "    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 10,"
        " minNumberOfExecutedThings: 20}\n"
        "waves:\n  - {name: canary, targets: [thinggroup/c]}\n"
        "  - {name: all, targets: [thinggroup/a], abortConfig: {criteriaList: [{failureType: ALL,"
        " action: CANCEL, thresholdPercentage: 5, minNumberOfExecutedThings: 100}]}}\n")
    (job,) = validate_folder(root).jobs
    canary, rest = desire_waves(job, project="acme", account="123456789012", region="eu-west-1",
                          commit=None, hashes=NoHashes())
    inherited = rollout_status(canary, None).as_dict()["abortCriteria"]
    assert [(a["failureType"], a["thresholdPercentage"], a["minNumberOfExecutedThings"],
             a["executed"], a["armed"]) for a in inherited] == [("FAILED", 10.0, 20, 0, False)]
    own = rollout_status(rest, None).as_dict()["abortCriteria"]
    assert [(a["failureType"], a["thresholdPercentage"]) for a in own] == [("ALL", 5.0)]
