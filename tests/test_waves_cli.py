"""Rollouts in waves through the CLI against a moto server (DESIGN.md section 8): execution
counts and alarm states are set as devices and CloudWatch would, and each apply creates a
wave only when the gate before it holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.facts import TAG_HALTED
from engine.sandbox import moto_jobs

from .conftest import REGION, cli_env
from .test_lifecycle import Aws, Repo, counts, envelope

GATE = ("{minSucceeded: 5, maxFailedPercent: 10, minExecuted: 10, soakMinutes: 60, "
        "alarms: [gw-crash], approval: true}")
ALL_GOOD = {"numberOfSucceededThings": 20, "numberOfFailedThings": 1,
            "numberOfQueuedThings": 0}


def manifest(version: str = "1", *, promoted: str = "[canary]") -> str:
    return (f"document: {{operation: firmware-update, version: '{version}'}}\n"
            "waves:\n"
            f"  - {{name: canary, targets: [thinggroup/canary], gate: {GATE}}}\n"
            "  - {name: ring, targets: [thinggroup/ring], gate: {minSucceeded: 50}}\n"
            "  - {name: all, targets: [thinggroup/all]}\n"
            f"promoted: {promoted}\n")


class Fleet:
    """The repository and what AWS holds, with the knobs devices and CloudWatch turn."""

    def __init__(self, tmp_path: Path, server: str, text: str | None = None) -> None:
        self.repo = Repo(tmp_path / "repo", server, {"gw.yaml": text or manifest()})
        self.aws = Aws(server)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=server,
                                       aws_access_key_id="testing",
                                       aws_secret_access_key="testing")
        self.cloudwatch.put_metric_alarm(
            AlarmName="gw-crash", MetricName="crashes", Namespace="fleet", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold")
        self.alarm("OK")

    def alarm(self, state: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName="gw-crash", StateValue=state,
                                        StateReason="test")

    def progress(self, wave: str, minutes: float = 90, **counts: int) -> None:
        job_id = self.wave_job(wave)
        moto_jobs.set_job_progress(job_id, {**ALL_GOOD, **counts},
                                   started_minutes_ago=minutes)

    def wave_jobs(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for job in self.aws.jobs().values():
            out.setdefault(job.tags.get("rollouts:wave", ""), []).append(job.job_id)
        return out

    def wave_job(self, wave: str) -> str:
        (job_id,) = [j.job_id for j in self.aws.jobs().values()
                     if j.tags.get("rollouts:wave") == wave and j.active]
        return job_id

    def states(self, data: dict[str, Any]) -> dict[str, str]:
        return {w["wave"]: w["state"] for w in data["waves"]}


@pytest.fixture
def fleet(tmp_path: Path, server: str) -> Fleet:
    return Fleet(tmp_path, server)


def test_waves__three_waves__go_one_by_one_as_each_gate_holds(fleet: Fleet) -> None:
    data = fleet.repo.plan(exit=2)
    assert fleet.states(data) == {"canary": "new", "ring": "pending", "all": "pending"}
    fleet.repo.apply()
    assert set(fleet.wave_jobs()) == {"canary"}
    data = fleet.repo.plan(exit=0)  # the canary has just started: nothing to do
    assert fleet.states(data)["canary"] == "waiting"
    assert counts(data) == {"unchanged": 1}

    fleet.progress("canary")
    data = fleet.repo.plan(exit=2)
    assert fleet.states(data) == {"canary": "passed", "ring": "new", "all": "pending"}
    gate = data["waves"][0]["gate"]["condition"]
    assert gate["soakMinutes"]["holds"] and gate["alarm:gw-crash"]["have"] == "OK"
    fleet.repo.apply()
    assert set(fleet.wave_jobs()) == {"canary", "ring"}

    fleet.progress("ring", numberOfSucceededThings=40)
    assert fleet.states(fleet.repo.plan(exit=0))["ring"] == "waiting"
    fleet.progress("ring", numberOfSucceededThings=50)
    data = fleet.repo.plan(exit=0)  # at most two waves run: the canary must finish first
    assert [w["reason"] for w in data["waves"]][1] == "canary still running"
    moto_jobs.set_job_status(fleet.wave_job("canary"), "COMPLETED")
    fleet.repo.apply()
    assert set(fleet.wave_jobs()) == {"canary", "ring", "all"}
    data = fleet.repo.plan(exit=0)
    assert fleet.states(data) == {"canary": "done", "ring": "done", "all": "running"}


def _counts(**counts: int) -> Any:
    return lambda fleet: fleet.progress("canary", **counts)


def _soak(minutes: int) -> Any:
    return lambda fleet: fleet.progress("canary", minutes=minutes)


def _promote(fleet: Fleet) -> None:
    fleet.repo.write("gw.yaml", manifest(promoted="[canary]"))


def _no_alarm(fleet: Fleet) -> None:
    fleet.progress("canary")
    fleet.cloudwatch.delete_alarms(AlarmNames=["gw-crash"])


def _alarm_back(fleet: Fleet) -> None:
    fleet.cloudwatch.put_metric_alarm(
        AlarmName="gw-crash", MetricName="crashes", Namespace="fleet", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold")
    fleet.alarm("OK")


@pytest.mark.parametrize("promoted,hold,release", [
    ("[canary]", _soak(30), _soak(61)),
    ("[canary]", _counts(numberOfSucceededThings=4, numberOfFailedThings=0,
                         numberOfCanceledThings=6),
     _counts(numberOfSucceededThings=5, numberOfFailedThings=0, numberOfCanceledThings=6)),
    ("[canary]", _counts(numberOfSucceededThings=5, numberOfFailedThings=0,
                         numberOfRejectedThings=1),
     _counts(numberOfSucceededThings=9, numberOfFailedThings=0, numberOfRejectedThings=1)),
    ("[canary]", _no_alarm, _alarm_back),
    ("[]", _counts(), _promote),
], ids=["soak", "min-succeeded", "min-executed", "alarm-missing", "approval"])
def test_waves__each_condition__holds_the_next_wave_back_on_its_own(
        tmp_path: Path, server: str, promoted: str, hold: Any, release: Any) -> None:
    fleet = Fleet(tmp_path, server, manifest(promoted=promoted))
    fleet.repo.apply()
    hold(fleet)
    data = fleet.repo.plan(exit=0)
    assert fleet.states(data)["canary"] == "waiting", data["waves"]
    release(fleet)
    data = fleet.repo.plan(exit=2)
    assert fleet.states(data)["canary"] == "passed", data["waves"]


@pytest.mark.parametrize("failure", ["percent", "alarm"])
def test_waves__failed_gate__halts_and_cancels_for_good(fleet: Fleet, failure: str) -> None:
    fleet.repo.apply()
    if failure == "percent":
        fleet.progress("canary", numberOfSucceededThings=8, numberOfFailedThings=4)
    else:
        fleet.progress("canary")
        fleet.alarm("ALARM")
    canary = fleet.wave_job("canary")
    data = fleet.repo.plan(exit=2)
    assert [c["action"] for c in data["changes"]] == ["halt"]
    fleet.repo.apply()
    job = fleet.aws.job(canary)
    assert job.status == "CANCELED" and job.tags[TAG_HALTED]
    # The numbers recover, the alarm clears: the revision stays halted.
    moto_jobs.set_job_progress(canary, {"numberOfSucceededThings": 1000},
                               started_minutes_ago=500)
    fleet.alarm("OK")
    data = fleet.repo.plan(exit=0)
    assert fleet.states(data)["canary"] == "failed"
    assert set(fleet.wave_jobs()) == {"canary"}


def test_waves__document_changed_mid_rollout__restarts_at_the_first_wave(fleet: Fleet) -> None:
    fleet.repo.apply()
    fleet.progress("canary")
    fleet.repo.apply()
    old_canary, old_ring = fleet.wave_job("canary"), fleet.wave_job("ring")
    moto_jobs.set_job_status(old_canary, "COMPLETED")
    fleet.repo.write("gw.yaml", manifest("2"))
    data = fleet.repo.plan(exit=2)
    assert fleet.states(data) == {"canary": "new", "ring": "pending", "all": "pending"}
    fleet.repo.apply()
    jobs = fleet.aws.jobs()
    assert jobs[old_ring].status == "CANCELED" and jobs[old_canary].status == "COMPLETED"
    new_canary = fleet.wave_job("canary")
    assert new_canary != old_canary
    assert fleet.aws.document(new_canary)["version"] == "2"
    assert [j for j in jobs.values() if j.active] == [jobs[new_canary]]


def test_waves__two_applies_at_once__create_the_next_wave_once(fleet: Fleet) -> None:
    fleet.repo.apply()
    fleet.progress("canary")
    command = [sys.executable, "-m", "engine", "apply", "--auto-approve", "--endpoint-url",
               fleet.repo.server, "--output", "json"]
    runs = [subprocess.Popen(command, cwd=fleet.repo.root.parent, env=cli_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL) for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err
    assert len(fleet.wave_jobs()["ring"]) == 1


def test_waves__saved_plan__refused_once_its_gate_stopped_holding(fleet: Fleet) -> None:
    fleet.repo.apply()
    fleet.progress("canary")
    saved = fleet.repo.root.parent / "plan.json"
    fleet.repo.run("plan", "--out", str(saved))
    assert saved.exists()
    fleet.alarm("ALARM")
    done = fleet.repo.run("apply", str(saved))
    body = envelope(done)
    assert done.returncode == 1 and body["error"]["code"] == "STALE_PLAN", body
    assert set(fleet.wave_jobs()) == {"canary"}
