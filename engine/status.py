"""How far each rollout has got: its current job, execution counts, rate and abort margin.

Pure: ``current_job`` picks a rollout's job from the rollout layer, and ``rollout_status``
reads its progress from DescribeJob's ``jobProcessDetails``; ``engine.workflow`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.desired import DesiredJob
from engine.facts import ACTIVE, IN_PROGRESS
from engine.remote import RemoteJob
from engine.rollouts import Rollout

NOT_CREATED = "NOT_CREATED"
COUNTS = (  # (label, jobProcessDetails key)
    ("succeeded", "numberOfSucceededThings"),
    ("failed", "numberOfFailedThings"),
    ("rejected", "numberOfRejectedThings"),
    ("timed out", "numberOfTimedOutThings"),
    ("canceled", "numberOfCanceledThings"),
    ("removed", "numberOfRemovedThings"),
    ("in progress", "numberOfInProgressThings"),
    ("queued", "numberOfQueuedThings"),
)
FAILURES = {"FAILED": ("failed",), "REJECTED": ("rejected",), "TIMED_OUT": ("timed out",),
            "ALL": ("failed", "rejected", "timed out")}


@dataclass(frozen=True)
class AbortMargin:
    """One abort criterion and how close the job is to tripping it."""

    failure_type: str
    threshold: float
    min_executed: int
    executed: int
    failures: int

    @property
    def percent(self) -> float:
        return 100.0 * self.failures / self.executed if self.executed else 0.0

    @property
    def armed(self) -> bool:
        return self.executed >= self.min_executed

    def as_dict(self) -> dict[str, Any]:
        return {"failureType": self.failure_type, "thresholdPercentage": self.threshold,
                "minNumberOfExecutedThings": self.min_executed, "executed": self.executed,
                "failures": self.failures, "percent": round(self.percent, 2),
                "armed": self.armed}


@dataclass(frozen=True)
class RolloutStatus:
    name: str
    job_id: str | None
    region: str
    status: str  # the job's status, or NOT_CREATED
    counts: dict[str, int]
    rate: str
    aborts: tuple[AbortMargin, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.counts.get("in progress", 0) - self.counts.get("queued", 0)

    @property
    def terminal(self) -> bool:
        return self.status not in ACTIVE

    @property
    def moving(self) -> bool:
        """Devices are being rolled out to now: a scheduled job waits for its start, and a
        CONTINUOUS job whose devices have all finished waits for things to join."""
        pending = self.counts.get("in progress", 0) + self.counts.get("queued", 0)
        return self.status == IN_PROGRESS and (self.total == 0 or pending > 0)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "jobId": self.job_id, "region": self.region,
                "status": self.status, "counts": self.counts, "total": self.total,
                "done": self.done, "rolloutRate": self.rate,
                "abortCriteria": [a.as_dict() for a in self.aborts]}


def describe_rate(config: dict[str, Any] | None) -> str:
    if not config:
        return "no rate limit set (AWS's default)"
    parts = []
    if "maximumPerMinute" in config:
        parts.append(f"at most {config['maximumPerMinute']}/min")
    exp = config.get("exponentialRate")
    if exp:
        criteria = exp.get("rateIncreaseCriteria", {})
        step = (f"{criteria['numberOfSucceededThings']} succeeded"
                if "numberOfSucceededThings" in criteria
                else f"{criteria.get('numberOfNotifiedThings', '?')} notified")
        parts.append(f"from {exp.get('baseRatePerMinute')}/min, x{exp.get('incrementFactor')} "
                     f"every {step}")
    return "; ".join(parts)


def rollout_status(d: DesiredJob, detail: dict[str, Any] | None) -> RolloutStatus:
    """The status of one rollout (or wave) from DescribeJob's ``job`` (None: not created)."""
    name = d.name if d.wave is None else f"{d.name}/{d.wave.name}"
    if detail is None:
        return RolloutStatus(name, None, d.region, NOT_CREATED, {}, describe_rate(
            d.request.get("jobExecutionsRolloutConfig")), ())
    process = detail.get("jobProcessDetails") or {}
    counts = {label: int(process.get(key, 0) or 0) for label, key in COUNTS}
    executed = sum(counts.values()) - counts["queued"]
    aborts = tuple(
        AbortMargin(c["failureType"], float(c["thresholdPercentage"]),
                    int(c["minNumberOfExecutedThings"]), executed,
                    sum(counts[label] for label in FAILURES[c["failureType"]]))
        for c in (detail.get("abortConfig") or {}).get("criteriaList", []))
    return RolloutStatus(name, detail.get("jobId"), d.region, str(detail.get("status")),
                         counts, describe_rate(detail.get("jobExecutionsRolloutConfig")),
                         aborts)


def current_job(rollout: Rollout) -> RemoteJob | None:
    """Git's revision (its active life, else its newest), else the rollout's newest job (a
    wave's: its own job only, none before it is created)."""
    revision = rollout.revision()
    active = [j for j in revision if j.active]
    if active or revision:
        return (active or revision)[0]
    if rollout.desired.wave is not None:
        return None
    return max(rollout.jobs, key=lambda j: j.created_at, default=None)
