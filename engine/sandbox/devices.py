"""Simulated devices for the sandbox: each step, queued devices start and running ones
finish, a few of them failing; a job completes, or trips its abort criteria, as on AWS."""

from __future__ import annotations

import random
from typing import Any

from moto.core.utils import utcnow
from moto.iot.models import FakeJob

from engine.sandbox.moto_jobs import backend

DEVICES_PER_GROUP = 40
_OUTCOMES = (("numberOfSucceededThings", 0.94), ("numberOfFailedThings", 0.03),
             ("numberOfRejectedThings", 0.01), ("numberOfTimedOutThings", 0.02))


def _fleet_size(job: FakeJob) -> int:
    return sum(DEVICES_PER_GROUP if ":thinggroup/" in t else 1 for t in job.targets)


def simulate_step(account: str, region: str, seed: int = 0) -> None:
    """Move every active job's devices one step: queued -> in progress -> an outcome.

    Deterministic for a seed. A job whose devices have all finished completes; a job whose
    abort criteria trip is canceled, as AWS would.
    """
    b = backend(account, region)
    for job in b.jobs.values():
        if job.status != "IN_PROGRESS":
            continue
        rng = random.Random(f"{seed}:{job.job_id}:{job.last_updated_at.isoformat()}")
        d: dict[str, Any] = job.job_process_details
        if not getattr(job, "_rollouts_simulated", False):
            size = _fleet_size(job)
            for key in ("numberOfSucceededThings", "numberOfFailedThings",
                        "numberOfRejectedThings", "numberOfTimedOutThings",
                        "numberOfCanceledThings", "numberOfRemovedThings",
                        "numberOfInProgressThings"):
                d[key] = 0
            d["numberOfQueuedThings"] = size
            job._rollouts_simulated = True  # type: ignore[attr-defined]
        step = max(1, _fleet_size(job) // 4)
        finishing = d.get("numberOfInProgressThings", 0)
        for _ in range(finishing):
            draw, total = rng.random(), 0.0
            for key, share in _OUTCOMES:
                total += share
                if draw < total:
                    d[key] = d.get(key, 0) + 1
                    break
        starting = min(step, d.get("numberOfQueuedThings", 0))
        d["numberOfInProgressThings"] = starting
        d["numberOfQueuedThings"] = d.get("numberOfQueuedThings", 0) - starting
        job.last_updated_at = utcnow()
        if _abort_tripped(job):
            job.status = "CANCELED"
            job.reason_code = "ABORTED_BY_CRITERIA"
            job.completed_at = utcnow()  # type: ignore[assignment]
        elif d["numberOfInProgressThings"] == 0 and d["numberOfQueuedThings"] == 0 and \
                job.target_selection != "CONTINUOUS":  # a CONTINUOUS job never completes
            job.status = "COMPLETED"
            job.completed_at = utcnow()  # type: ignore[assignment]


def _abort_tripped(job: FakeJob) -> bool:
    d: dict[str, Any] = job.job_process_details
    failures = {"FAILED": d.get("numberOfFailedThings", 0),
                "REJECTED": d.get("numberOfRejectedThings", 0),
                "TIMED_OUT": d.get("numberOfTimedOutThings", 0)}
    failures["ALL"] = sum(failures.values())
    executed = sum(failures.values()) - failures["ALL"] + d.get("numberOfSucceededThings", 0)
    for c in (job.abort_config or {}).get("criteriaList", []):
        if executed >= c["minNumberOfExecutedThings"] and executed and \
                100.0 * failures[c["failureType"]] / executed >= c["thresholdPercentage"]:
            return True
    return False
