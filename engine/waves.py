"""Where a rollout in waves stands: its frontier wave, that wave's gate, and what comes next.
Pure.

The rollout layer gives one ``Rollout`` per wave of git's revision (``engine.rollouts``).
The frontier is the last wave whose job exists; the waves before it are done (their gates
held when the next was created), the ones after it are pending. The frontier's gate
decides: waiting, passed (the next wave is created now) or failed (the revision halts for
good: the tool marks the frontier job, and cancels it unless ``onFailure: hold``). A
revision with no wave job yet starts at the first wave, which has no gate before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any

from engine.desired import DesiredJob
from engine.facts import SCHEDULED, TAG_HALTED
from engine.gates import Progress, Reading, read_gate
from engine.remote import RemoteJob
from engine.rollouts import Rollout, wave_lives


@dataclass(frozen=True)
class WaveStep:
    """One wave of git's revision, as the plan shows it."""

    desired: DesiredJob
    job: RemoteJob | None  # the wave's job, if created
    state: str  # done | running | waiting | passed | failed | pending | new
    reason: str  # a few words: why it waits, why it failed, what apply does
    reading: Reading | None = None  # the frontier's gate, read
    action: str | None = None  # what apply does to this wave: create, halt, or nothing

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rollout": self.desired.name, "wave": self.desired.wave.name
                               if self.desired.wave else None,
                               "jobId": self.job.job_id if self.job else None,
                               "state": self.state, "reason": self.reason,
                               "action": self.action}
        if self.reading is not None:
            out["gate"] = self.reading.as_dict()
        return out


@dataclass(frozen=True)
class Stand:
    """Where a rollout in waves stands, and what apply does about it."""

    steps: tuple[WaveStep, ...]
    running: tuple[tuple[DesiredJob, RemoteJob], ...]  # git's active wave jobs: kept in place
    create: DesiredJob | None  # the wave to create now
    after: RemoteJob | None  # the job whose gate let ``create`` go (None for the first wave)
    halt: tuple[DesiredJob, RemoteJob, str] | None  # the frontier whose gate failed, and why


def progress(job: RemoteJob) -> Progress:
    """A wave job's progress, from DescribeJob (counts, and when it started)."""
    detail = job.detail or {}
    counts = detail.get("jobProcessDetails") or {}
    started = detail.get("createdAt") if job.status != SCHEDULED else None
    if not isinstance(started, datetime):
        return Progress(job.status, dict(counts), None)
    if started.tzinfo is not None:  # botocore's are aware; the plan's clock is naive UTC
        started = started.astimezone(timezone.utc).replace(tzinfo=None)
    return Progress(job.status, dict(counts), started)


def stand(waves: list[Rollout], alarms: dict[str, str], now: datetime) -> Stand:
    """Where the rollout whose waves (in order) are ``waves`` stands at ``now``."""
    jobs = [next(iter(wave_lives(r)), None) for r in waves]
    frontier = max((i for i, job in enumerate(jobs) if job is not None), default=-1)
    running = tuple((r.desired, job) for r, job in zip(waves, jobs, strict=True)
                    if job is not None and job.active)
    steps: list[WaveStep] = []
    if frontier < 0:
        first = waves[0].desired
        steps.append(WaveStep(first, None, "new", "apply creates it", action="create"))
        steps += [WaveStep(r.desired, None, "pending", _after(before))
                  for before, r in pairwise(waves)]
        return Stand(tuple(steps), running, first, None, None)
    for r, job in zip(waves[:frontier], jobs[:frontier], strict=True):
        steps.append(WaveStep(r.desired, job, "done", "its gate held"))
    top, job = waves[frontier], jobs[frontier]
    assert job is not None
    d = top.desired
    assert d.wave is not None
    create: DesiredJob | None = None
    halt = None
    reading: Reading | None = read_gate(d.wave.gate, progress(job), alarms,
                                        promoted=d.wave.promoted, now=now)
    halted = job.tag(TAG_HALTED)
    earlier_running = [_wave_name(r.desired) for r, j in zip(waves[:frontier], jobs[:frontier],
                                                             strict=True)
                       if j is not None and j.active]
    if d.wave.last:
        state, reason = ("running", "the last wave") if job.active else ("done", job.status)
        reading = None
    elif halted:
        state, reason = "failed", f"halted: {halted}"
    elif reading is not None and reading.state == "failed":
        state, reason = "failed", reading.reason
        halt = (d, job, reading.reason)
    elif reading is not None and reading.state == "passed" and earlier_running:
        # At most two waves run at once: the one promoted and the one it lets go.
        state, reason = "waiting", f"{', '.join(earlier_running)} still running"
    elif reading is not None and reading.state == "passed":
        create = waves[frontier + 1].desired
        state, reason = "passed", f"apply creates {_wave_name(create)}"
    else:
        state, reason = "waiting", reading.reason if reading is not None else ""
    steps.append(WaveStep(d, job, state, reason, reading,
                          "halt" if halt is not None else None))
    for before, r in pairwise(waves[frontier:]):
        if r.desired is create:
            steps.append(WaveStep(r.desired, None, "new", "apply creates it", action="create"))
        else:
            steps.append(WaveStep(r.desired, None, "pending", _after(before)))
    return Stand(tuple(steps), running, create, job if create is not None else None, halt)


def _wave_name(d: DesiredJob) -> str:
    return d.wave.name if d.wave is not None else d.name


def _after(r: Rollout) -> str:
    return f"after {_wave_name(r.desired)}"
