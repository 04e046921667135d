"""Simulated devices for the sandbox: each step, queued devices start and running ones
finish, a few of them failing; a job completes, or trips its abort criteria, as on AWS.

Every thing group has ``moto_jobs.DEVICES_PER_GROUP`` devices (one made in moto, its own
things: ``moto_groups.group_size``). A scheduled job counts its
devices as queued and starts none of them until the sandbox's clock reaches its
``startTime``; then it becomes IN_PROGRESS and its devices move, as on AWS. A CONTINUOUS
job never completes: it stays open for devices that join its groups.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow
from moto.iot.models import FakeJob

from engine.facts import CANCELED, COMPLETED, CONTINUOUS, IN_PROGRESS, SCHEDULED
from engine.sandbox.moto_jobs import backend, cancel_executions, count_fleet, fleet_size
from engine.schema.rules import parse_time

_OUTCOMES = (("numberOfSucceededThings", 0.94), ("numberOfFailedThings", 0.03),
             ("numberOfRejectedThings", 0.01), ("numberOfTimedOutThings", 0.02))


def _start_time(job: FakeJob) -> datetime | None:
    text = (job.scheduling_config or {}).get("startTime")
    return parse_time(text) if isinstance(text, str) else None


def simulate_step(account: str, region: str, seed: int = 0,
                  now: datetime | None = None, failing: dict[str, float] | None = None) -> None:
    """Move every active job's devices one step: queued -> in progress -> an outcome.

    ``now`` is the sandbox's clock (naive UTC; the wall clock by default): a scheduled job
    whose ``startTime`` has come starts, one still to come only counts its queued devices.
    Deterministic for a seed. A job whose devices have all finished completes (never a
    CONTINUOUS one); a job whose abort criteria trip is canceled, as AWS would. ``failing``
    maps thing-group names to the share of their devices that fail (the sandbox's knob).
    """
    now = now or utcnow()
    for job in backend(account, region).jobs.values():
        if job.status == SCHEDULED:
            count_fleet(job)
            start = _start_time(job)
            if start is None or start > now:
                continue
            job.status = IN_PROGRESS  # AWS starts the rollout at startTime
        if job.status == IN_PROGRESS:
            count_fleet(job)
            _step(job, seed, _outcomes(job, failing or {}))
        elif job.status == CANCELED and getattr(job, "_rollouts_simulated", False) and \
                job.job_process_details.get("numberOfInProgressThings"):
            _finish_running(job, seed, _outcomes(job, failing or {}))  # they still report
            job.job_process_details["numberOfInProgressThings"] = 0
            job.last_updated_at = utcnow()


def _outcomes(job: FakeJob, failing: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """How the job's devices end: as usual, or failing at the rate its groups are set to."""
    shares = [share for target in job.targets for group, share in failing.items()
              if target.endswith(f":thinggroup/{group}")]
    if not shares:
        return _OUTCOMES
    return (("numberOfFailedThings", max(shares)), ("numberOfSucceededThings", 1.0))


def _finish_running(job: FakeJob, seed: int,
                    outcomes: tuple[tuple[str, float], ...] = _OUTCOMES) -> None:
    """Every device in progress reports an outcome."""
    rng = random.Random(f"{seed}:{job.job_id}:{job.last_updated_at.isoformat()}")
    d: dict[str, Any] = job.job_process_details
    for _ in range(d.get("numberOfInProgressThings", 0)):
        draw, total = rng.random(), 0.0
        for key, share in outcomes:
            total += share
            if draw < total:
                d[key] = d.get(key, 0) + 1
                break


def _step(job: FakeJob, seed: int, outcomes: tuple[tuple[str, float], ...]) -> None:
    d: dict[str, Any] = job.job_process_details
    before = dict(d)
    step = max(1, fleet_size(job) // 4)
    _finish_running(job, seed, outcomes)
    starting = min(step, d["numberOfQueuedThings"])
    d["numberOfInProgressThings"] = starting
    d["numberOfQueuedThings"] -= starting
    if d != before:  # an open CONTINUOUS job with nothing to do is not updated
        job.last_updated_at = utcnow()
    if _abort_tripped(job):
        job.status = CANCELED
        job.reason_code = "ABORTED_BY_CRITERIA"
        job.completed_at = utcnow()  # type: ignore[assignment]
        cancel_executions(job, force=False)
    elif d["numberOfInProgressThings"] == 0 and d["numberOfQueuedThings"] == 0 and \
            job.target_selection != CONTINUOUS:  # a CONTINUOUS job never completes
        job.status = COMPLETED
        job.completed_at = utcnow()  # type: ignore[assignment]


def _abort_tripped(job: FakeJob) -> bool:
    d: dict[str, Any] = job.job_process_details
    failures = {"FAILED": d.get("numberOfFailedThings", 0),
                "REJECTED": d.get("numberOfRejectedThings", 0),
                "TIMED_OUT": d.get("numberOfTimedOutThings", 0)}
    failures["ALL"] = sum(failures.values())
    executed = failures["ALL"] + d.get("numberOfSucceededThings", 0)
    for c in (job.abort_config or {}).get("criteriaList", []):
        if executed >= c["minNumberOfExecutedThings"] and executed and \
                100.0 * failures[c["failureType"]] / executed >= c["thresholdPercentage"]:
            return True
    return False
