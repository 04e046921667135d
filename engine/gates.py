"""Promotion gates: whether a wave's job has earned the next wave. Pure.

A gate names conditions (DESIGN.md section 8); ``read_gate`` judges them from what AWS
says of the wave's job (status, DescribeJob's ``jobProcessDetails``, when it started),
the states of the gate's CloudWatch alarms, whether the wave is promoted in git, and the
time. The reading is one of three states:

- ``failed``: the failure share passed its bound with enough executed, an alarm is in
  ALARM, or the job was canceled (by a hand, by its abort criteria) or is being deleted;
  a failed gate halts the revision for good;
- ``passed``: every condition the gate names holds (a gate that names none holds once
  its job has completed);
- ``waiting``: neither, yet.

Each condition carries what it wants, what the job has and whether it holds, for the plan
and for ``status`` to show the margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from engine.facts import CANCELED, COMPLETED, DELETION_IN_PROGRESS

# jobProcessDetails keys: executed counts every execution that reached an end.
SUCCEEDED = "numberOfSucceededThings"
FAILURE_KEYS = ("numberOfFailedThings", "numberOfRejectedThings", "numberOfTimedOutThings")
EXECUTED_KEYS = (SUCCEEDED, *FAILURE_KEYS, "numberOfRemovedThings", "numberOfCanceledThings")
ALARM = "ALARM"

State = Literal["waiting", "passed", "failed"]


@dataclass(frozen=True)
class Gate:
    """A wave's gate as the manifest states it; None: the condition is not named."""

    min_succeeded: int | None = None
    max_failed_percent: float | None = None
    min_executed: int | None = None  # maxFailedPercent judges from this many executed on
    soak_minutes: int | None = None
    alarms: tuple[str, ...] = ()
    approval: bool = False

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Gate:
        """From a manifest's ``gate:`` mapping (already validated)."""
        data = data or {}
        return cls(data.get("minSucceeded"), data.get("maxFailedPercent"),
                   data.get("minExecuted"), data.get("soakMinutes"),
                   tuple(data.get("alarms") or ()), bool(data.get("approval")))

    @property
    def empty(self) -> bool:
        return self == Gate()


@dataclass(frozen=True)
class Progress:
    """What AWS says of a wave's job."""

    status: str
    counts: dict[str, int]  # jobProcessDetails
    started_at: datetime | None  # createdAt, or the scheduled start once it has passed

    def count(self, *keys: str) -> int:
        return sum(int(self.counts.get(k) or 0) for k in keys)

    @property
    def succeeded(self) -> int:
        return self.count(SUCCEEDED)

    @property
    def executed(self) -> int:
        return self.count(*EXECUTED_KEYS)

    @property
    def failures(self) -> int:
        return self.count(*FAILURE_KEYS)

    @property
    def failed_percent(self) -> float:
        return 100.0 * self.failures / self.executed if self.executed else 0.0


@dataclass(frozen=True)
class Condition:
    """One condition of a gate: what it wants, what the job has, whether it holds, and in a
    few words why not; a condition that ``fails`` halts the revision whatever the others say."""

    name: str
    want: str
    have: str
    holds: bool
    why: str = ""
    fails: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"want": self.want, "have": self.have, "holds": self.holds}


@dataclass(frozen=True)
class Reading:
    state: State
    conditions: tuple[Condition, ...]
    reason: str  # one line: why it waits, why it failed, or that it passed

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason,
                "condition": {c.name: c.as_dict() for c in self.conditions}}


def read_gate(gate: Gate, progress: Progress, alarms: dict[str, str], *, promoted: bool,
              now: datetime) -> Reading:
    """Judge ``gate`` for a wave whose job shows ``progress``. ``alarms`` maps each alarm
    name to its CloudWatch state (a name missing from it was not found)."""
    conditions = _conditions(gate, progress, alarms, promoted, now)
    if progress.status in (CANCELED, DELETION_IN_PROGRESS):
        conditions = (Condition("status", "not canceled", progress.status, False,
                                f"its job is {progress.status}", fails=True), *conditions)
    failing = [c.why for c in conditions if c.fails]
    if failing:
        return Reading("failed", conditions, "; ".join(failing))
    waiting = [c.why for c in conditions if not c.holds]
    if waiting:
        return Reading("waiting", conditions, "; ".join(waiting))
    return Reading("passed", conditions, "every condition holds")


def _conditions(gate: Gate, progress: Progress, alarms: dict[str, str], promoted: bool,
                now: datetime) -> tuple[Condition, ...]:
    if gate.empty:  # no conditions: the next wave waits for this one to finish
        done = progress.status == COMPLETED
        return (Condition("completed", COMPLETED, progress.status, done,
                          f"its job is {progress.status}, not yet {COMPLETED}"),)
    out: list[Condition] = []
    if gate.min_succeeded is not None:
        have, want = progress.succeeded, gate.min_succeeded
        out.append(Condition("minSucceeded", f">= {want}", str(have), have >= want,
                             f"{want - have} more succeeded needed"))
    if gate.max_failed_percent is not None:
        executed, bound, floor = progress.executed, gate.max_failed_percent, gate.min_executed
        judged = executed >= max(floor or 1, 1)  # too few executed: not judged yet
        share = progress.failed_percent
        over = judged and share > bound
        out.append(Condition(
            "maxFailedPercent", f"<= {bound:g}%" + (f" once {floor} executed" if floor else ""),
            f"{share:.1f}% of {executed} executed", judged and not over,
            f"{share:.1f}% failed > {bound:g}%" if over
            else f"{max(floor or 1, 1) - executed} more executed before failures are judged",
            fails=over))
    if gate.soak_minutes is not None:
        started = progress.started_at
        ran = max((now - started).total_seconds() / 60, 0.0) if started is not None else 0.0
        left = gate.soak_minutes - ran
        out.append(Condition("soakMinutes", f">= {gate.soak_minutes} min", f"{int(ran)} min",
                             left <= 0, f"soak {max(int(left + 0.999), 1)} min left"
                             if started is not None else "soak: its job has not started"))
    for name in gate.alarms:
        state = alarms.get(name)
        firing = state == ALARM
        out.append(Condition(f"alarm:{name}", f"not {ALARM}",
                             state if state is not None else "not found",
                             state is not None and not firing,
                             f"alarm {name} is {ALARM}" if firing
                             else f"alarm {name} not found in CloudWatch", fails=firing))
    if gate.approval:
        out.append(Condition("approval", "promoted", "promoted" if promoted else "not promoted",
                             promoted, "approval"))
    return tuple(out)
