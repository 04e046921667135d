"""How far each rollout has got: its current job, execution counts, rate and abort margin.

Pure: ``current_job`` picks a rollout's job from the rollout layer, and ``rollout_status``
reads its progress from DescribeJob's ``jobProcessDetails``; ``engine.workflow`` reads.

This is the one reader of job progress: each rollout's ``phase`` says whether devices are
being rolled out to now, and ``settled`` whether a watch waits for none of them (text and
JSON render the same phases and summary):

- ``ROLLING_OUT``: a SNAPSHOT job until AWS finishes it; a CONTINUOUS job while an
  execution is queued or in progress, or a target is still being processed;
- ``OPEN``: a CONTINUOUS job whose every execution so far is terminal. AWS never completes
  such a job (it stays IN_PROGRESS for the devices that join its groups), so a watch that
  waited for it to finish would never end;
- ``SCHEDULED``: waiting for its ``startTime``, which may be months away;
- ``FINISHED``: COMPLETED, CANCELED or being deleted; ``NOT_CREATED``: apply has not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from typing import Any

from engine.desired import DesiredJob
from engine.facts import ACTIVE, API_DEFAULTS, CONTINUOUS, FAILURES, SCHEDULED
from engine.gates import Reading
from engine.remote import RemoteJob
from engine.rollouts import Rollout, wave_lives
from engine.waves import stand

NOT_CREATED = "NOT_CREATED"
# Phases (the module's docstring says what each means), as JSON gives them.
ROLLING_OUT, OPEN, WAITING, FINISHED, UNCREATED = (
    "ROLLING_OUT", "OPEN", "SCHEDULED", "FINISHED", NOT_CREATED)
PHASES = (ROLLING_OUT, OPEN, WAITING, FINISHED, UNCREATED)
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
    target_selection: str = API_DEFAULTS["targetSelection"]
    start_time: str | None = None  # schedulingConfig.startTime (UTC)
    processing: bool = False  # AWS still expands targets: the counts are not all in yet
    gate: Reading | None = None  # a wave's gate before the next wave, as it reads now
    halted: str | None = None  # a wave never to be created: the wave whose gate failed
    account: str | None = None  # where a declared account (accounts:) is in play: its id
    where: str = ""  # its place: the region, or ALIAS/REGION in a declared account
    # A wave not created yet that apply would not create now: what it waits for.
    waits: str | None = None

    @property
    def rollout(self) -> str:
        """The rollout's name (a wave's line is ROLLOUT/WAVE)."""
        return self.name.split("/", 1)[0]

    @property
    def wave(self) -> bool:
        return "/" in self.name

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
    def phase(self) -> str:
        """One of ``PHASES`` (the module's docstring says what each means)."""
        if self.status == NOT_CREATED:
            return UNCREATED
        if self.terminal:
            return FINISHED
        if self.status == SCHEDULED:
            return WAITING
        pending = self.counts.get("in progress", 0) + self.counts.get("queued", 0)
        if self.target_selection == CONTINUOUS and not pending and not self.processing:
            return OPEN
        return ROLLING_OUT

    @property
    def moving(self) -> bool:
        """Devices are being rolled out to now."""
        return self.phase == ROLLING_OUT

    @property
    def settled(self) -> bool:
        """Nothing a watch waits for: finished, open for devices that join, or scheduled."""
        return not self.moving

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "jobId": self.job_id, "region": self.region,
                **({"account": self.account} if self.account is not None else {}),
                "status": self.status, "phase": self.phase,
                "targetSelection": self.target_selection, "startTime": self.start_time,
                "counts": self.counts, "total": self.total, "done": self.done,
                "rolloutRate": self.rate, "abortCriteria": [a.as_dict() for a in self.aborts],
                **({"gate": self.gate.as_dict()} if self.gate is not None else {}),
                **({"haltedAt": self.halted} if self.halted is not None else {}),
                **({"waitsFor": self.waits} if self.waits is not None else {})}


def summary(statuses: list[RolloutStatus]) -> dict[str, Any]:
    """How many rollouts there are (a rollout in waves is one) and how many finished (every
    wave finished, or never to be created: halted), how many waves; how many jobs (a
    rollout's, or a wave's) are in each phase, and whether all settled."""
    phases = dict.fromkeys(PHASES, 0)
    unfinished: set[str] = set()
    for s in statuses:
        phases[s.phase] += 1
        if s.phase != FINISHED and s.halted is None:
            unfinished.add(s.rollout)
    names = {s.rollout for s in statuses}
    return {"rollouts": len(names), "finished": len(names - unfinished),
            "waves": sum(s.wave for s in statuses), "phases": phases,
            "settled": settled(statuses)}


def settled(statuses: list[RolloutStatus]) -> bool:
    """Where ``status --watch`` ends: no rollout is rolling out to devices now."""
    return all(s.settled for s in statuses)


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


def rollout_status(d: DesiredJob, detail: dict[str, Any] | None,
                   gate: Reading | None = None) -> RolloutStatus:
    """The status of one rollout (or wave) from DescribeJob's ``job`` (None: not created);
    for a wave, ``gate`` is its gate as it reads now."""
    return replace(_status(d, detail, gate), where=d.where,
                   account=d.account if d.alias is not None else None)


def _status(d: DesiredJob, detail: dict[str, Any] | None,
            gate: Reading | None = None) -> RolloutStatus:
    name = d.name if d.wave is None else f"{d.name}/{d.wave.name}"
    if detail is None:  # what it will have once created
        return RolloutStatus(name, None, d.region, NOT_CREATED, {}, describe_rate(
            d.request.get("jobExecutionsRolloutConfig")), _margins(d.request, {}))
    process = detail.get("jobProcessDetails") or {}
    counts = {label: int(process.get(key, 0) or 0) for label, key in COUNTS}
    selection = str(detail.get("targetSelection") or API_DEFAULTS["targetSelection"])
    return RolloutStatus(name, detail.get("jobId"), d.region, str(detail.get("status")),
                         counts, describe_rate(detail.get("jobExecutionsRolloutConfig")),
                         _margins(detail, counts), selection,
                         (detail.get("schedulingConfig") or {}).get("startTime"),
                         bool(process.get("processingTargets")), gate)


def _margins(job: dict[str, Any], counts: dict[str, int]) -> tuple[AbortMargin, ...]:
    """Each abort criterion of ``job`` (DescribeJob's, or a request) against ``counts``."""
    executed = sum(counts.values()) - counts.get("queued", 0)
    return tuple(
        AbortMargin(c["failureType"], float(c["thresholdPercentage"]),
                    int(c["minNumberOfExecutedThings"]), executed,
                    sum(counts.get(label, 0) for label in FAILURES[c["failureType"]]))
        for c in (job.get("abortConfig") or {}).get("criteriaList", []))


def wave_waits(read: Sequence[tuple[Rollout, RemoteJob | None, dict[str, Any] | None]],
               alarms: dict[str, str], now: datetime) -> dict[str, str]:
    """What each wave that apply would not create now waits for, by "ROLLOUT/WAVE": the
    plan's reading of where its rollout stands (``engine.waves.stand``). ``read`` holds each
    rollout of a region with its current job and that job's DescribeJob ``job``."""
    by_name: dict[str, list[Rollout]] = {}
    for rollout, job, detail in read:
        if rollout.desired.wave is None:
            continue
        if job is not None and detail is not None:  # the gate reads the job's progress
            rollout = rollout._replace(lives=tuple(
                replace(j, detail=detail) if j.job_id == job.job_id else j
                for j in rollout.lives))
        by_name.setdefault(rollout.desired.name, []).append(rollout)
    out: dict[str, str] = {}
    for name, waves in by_name.items():
        waves.sort(key=lambda r: r.desired.wave.index if r.desired.wave else 0)
        for before, step in pairwise(stand(waves, alarms, now).steps):
            if step.state != "pending" or before.state == "failed" \
                    or step.desired.wave is None or before.desired.wave is None:
                continue
            previous = before.desired.wave.name
            what = (f"wave {previous} to complete" if before.desired.wave.gate.empty
                    else f"the gate of wave {previous}")
            out[f"{name}/{step.desired.wave.name}"] = (
                f"wave {previous} (not created yet either)" if before.job is None
                else f"{what}: {before.reason}" if before.reason else what)
    return out


def current_job(rollout: Rollout) -> RemoteJob | None:
    """Git's revision while it runs, else the job of the rollout that runs (before an apply
    restores git's), else git's newest, else the rollout's newest job (a wave's: its own
    job only, none before it is created)."""
    if rollout.desired.wave is not None:  # a wave's own job, not one the tool replaced
        return next(iter(wave_lives(rollout)), None)
    revision = rollout.revision()
    active = [j for j in revision if j.active] or rollout.others_active()
    if active or revision:
        return (active or revision)[0]
    return max(rollout.jobs, key=lambda j: j.created_at, default=None)
