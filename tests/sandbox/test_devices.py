"""The sandbox's devices and clock: a job counts the devices of its groups, a scheduled job
starts none before its startTime and starts at it, a cancel cancels queued executions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.sandbox import devices, moto_jobs

from ..conftest import ACCOUNT, REGION
from .test_moto_jobs import call

GROUP = f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/fleet"
THING = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/lab-1"
START = "2027-06-01T22:00"


def _counts(iot: Any, job_id: str) -> dict[str, int]:
    details: dict[str, int] = call(iot, "DescribeJob", jobId=job_id)["job"]["jobProcessDetails"]
    return {k.removeprefix("numberOf").removesuffix("Things"): v for k, v in details.items()
            if v}


def _create(iot: Any, job_id: str, **extra: Any) -> None:
    call(iot, "CreateJob", jobId=job_id, targets=[GROUP, THING], document="{}", **extra)


def _step(at: str) -> None:
    devices.simulate_step(ACCOUNT, REGION, now=datetime.fromisoformat(at))


def test_create_job__a_group_and_a_thing__41_executions_queued(iot: Any) -> None:
    _create(iot, "j1")
    assert _counts(iot, "j1") == {"Queued": 41}  # moto counts 1 per job


def test_scheduled_job__no_device_starts_before_its_start_time_then_they_move(iot: Any) -> None:
    _create(iot, "j1", schedulingConfig={"startTime": START})
    for at in ("2027-06-01T21:00", "2027-06-01T21:59"):
        _step(at)
        assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] == "SCHEDULED"
        assert _counts(iot, "j1") == {"Queued": 41}
    _step(START)
    assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] == "IN_PROGRESS"
    assert _counts(iot, "j1") == {"Queued": 31, "InProgress": 10}
    for minute in range(10, 30):
        _step(f"2027-06-01T22:{minute}")
    assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] in ("COMPLETED", "CANCELED")


def test_cancel_job__queued_executions_canceled_running_ones_finish(iot: Any) -> None:
    _create(iot, "j1")
    _step(START)  # 10 start
    call(iot, "CancelJob", jobId="j1")
    assert _counts(iot, "j1") == {"Canceled": 31, "InProgress": 10}
    _step(START)
    counts = _counts(iot, "j1")
    assert counts["Canceled"] == 31 and "InProgress" not in counts and sum(counts.values()) == 41
    assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] == "CANCELED"


def test_cancel_job__forced__running_executions_canceled_too(iot: Any) -> None:
    _create(iot, "j1")
    _step(START)
    call(iot, "CancelJob", jobId="j1", force=True)
    assert _counts(iot, "j1") == {"Canceled": 41}


def test_simulate_step__a_job_saved_with_motos_counts__counted_once(iot: Any) -> None:
    _create(iot, "j1")
    job = moto_jobs.backend(ACCOUNT, REGION).jobs["j1"]
    job._rollouts_simulated = False  # as a sandbox saved by an earlier version holds it
    job.job_process_details.update(numberOfQueuedThings=1)
    _step(START)
    assert sum(_counts(iot, "j1").values()) == 41
