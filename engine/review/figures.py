"""A change's review figures (DESIGN.md section 11): its reach, the time to notify it and
the failures after which it aborts, as data for the plan and its renderers. Pure.

The counts of the targets come in as data (``TargetCount``, read by ``engine.reach``);
``figures`` turns one CreateJob-shaped request and its reach into ``Figures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.review.abort import AbortFigure, abort_after
from engine.review.timeline import Timeline, minutes_to_notify

# Where a target's count came from. A thing counts 1 without a call.
THING, INDEXING, LISTING, UNKNOWN, NOT_READ = ("thing", "indexing", "listing", "unknown",
                                               "not read")


@dataclass(frozen=True)
class TargetCount:
    """The things one target holds: ``count`` None when it could not be read; ``exact``
    False when it is a floor (a listing cut at its cap)."""

    count: int | None
    exact: bool
    source: str


THING_COUNT = TargetCount(1, True, THING)


@dataclass(frozen=True)
class Reach:
    """Things a job targets: the sum of its targets' counts (a thing in two targeted groups
    counts twice). ``count`` None: unknown. ``continuous``: every thing that joins its
    groups later is reached too."""

    count: int | None
    exact: bool
    source: str  # things, indexing, listing (joined with + when mixed), unknown, not read
    continuous: bool = False

    @classmethod
    def of(cls, targets: Iterable[str], counts: Mapping[str, TargetCount], *,
           continuous: bool = False) -> Reach:
        read = [THING_COUNT if ":thing/" in arn else
                counts.get(arn, TargetCount(None, False, UNKNOWN)) for arn in targets]
        missing = [c for c in read if c.count is None]
        if missing:
            source = NOT_READ if all(c.source == NOT_READ for c in missing) else UNKNOWN
            return cls(None, False, source, continuous)
        sources = sorted({c.source for c in read} - {THING})
        return cls(sum(c.count or 0 for c in read), all(c.exact for c in read),
                   "+".join(sources) or "things", continuous)

    @property
    def counted(self) -> str:
        """"301 devices", "at least 10,000 devices", "reach unknown"."""
        if self.count is None:
            return "reach not read" if self.source == NOT_READ else "reach unknown"
        plural = "" if self.count == 1 else "s"
        return f"{'' if self.exact else 'at least '}{self.count:,} device{plural}"

    @property
    def text(self) -> str:
        """``counted``, and for a continuous job: "40 devices now, and every thing that
        joins"."""
        if self.continuous and self.count is not None:
            return f"{self.counted} now, and every thing that joins"
        return self.counted

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "exact": self.exact, "source": self.source,
                "continuous": self.continuous}


@dataclass(frozen=True)
class Figures:
    """One job's figures; ``timeline`` None where the reach is unknown or the
    configuration could not be read (``problem`` says why)."""

    reach: Reach
    timeline: Timeline | None
    abort: tuple[AbortFigure, ...]
    problem: str | None = None
    # An execution in progress this long times out (a TIMED_OUT failure for the criteria).
    timeout_minutes: int | None = None

    @property
    def time_text(self) -> str:
        """"about 2 h 4 min", "reaches 9,000 of 12,400 before it ends", "unknown"."""
        if self.timeline is None:
            return "unknown"
        text = self.timeline.text
        # A reach that is a floor ("at least 10,000") makes its time a floor too.
        return f"at least {text.removeprefix('about ')}" \
            if not self.reach.exact and text.startswith("about ") else text

    @property
    def abort_text(self) -> str:
        """The fewest failures that surely abort the job, over its criteria."""
        counts = [a.after_failures for a in self.abort if a.after_failures is not None]
        if counts:
            lowest = min(counts)
            floor = "" if self.reach.exact else "at least "
            return f"aborts after {floor}{lowest:,} failure{'' if lowest == 1 else 's'}"
        if self.abort:
            return "abort criteria never trip at this reach"
        return "unknown" if self.reach.count is None and self.problem is None \
            else "no abort criteria"

    @property
    def short(self) -> str:
        """The change's line: "reaches 301 devices in about 2 min; aborts after 16
        failures"."""
        return _line(self, self.time_text, self.abort_text)

    def as_json(self) -> dict[str, Any]:
        timeline = self.timeline
        minutes = None if timeline is None or timeline.minutes is None \
            else round(timeline.minutes, 1)
        return {"reach": self.reach.as_json(), "minutesToNotifyAll": minutes,
                "notifiedBeforeEnd": timeline.notified_before_end if timeline else None,
                "abort": [a.as_review() for a in self.abort],
                "inProgressTimeoutInMinutes": self.timeout_minutes}


@dataclass(frozen=True)
class Review:
    """A change's figures; an update has them before and after."""

    after: Figures
    before: Figures | None = None

    @property
    def changed(self) -> bool:
        return self.before is not None and (
            self.before.time_text != self.after.time_text
            or self.before.abort_text != self.after.abort_text)

    def as_json(self) -> dict[str, Any]:
        if self.before is None:
            return self.after.as_json()
        return {"before": self.before.as_json(), "after": self.after.as_json()}

    @property
    def short(self) -> str:
        """The change's line; an update that alters the figures shows before -> after."""
        before, after = self.before, self.after
        if before is None or not self.changed or after.reach.count is None:
            return after.short
        counted = all(f.abort_text.startswith("aborts after ") for f in (before, after))
        abort = (f"aborts after {_moved(_abort_cell(before), _abort_cell(after))}" if counted
                 else _moved(before.abort_text, after.abort_text))
        return _line(after, _moved(before.time_text, after.time_text), abort)

    def cells(self) -> tuple[str, str, str]:
        """Reach, time and "aborts after" as table cells: "3 h 10 min -> 45 min"."""
        after, before = self.after, self.before if self.changed else None
        return (after.reach.text,
                _moved(_cell(before.time_text), _cell(after.time_text)) if before
                else _cell(after.time_text),
                _moved(_abort_cell(before), _abort_cell(after)) if before
                else _abort_cell(after))


def _line(f: Figures, time_text: str, abort_text: str) -> str:
    reach = f.reach
    if reach.count is None:
        return f"{reach.counted}{f' ({f.problem})' if f.problem else ''}"
    line = f"reaches {reach.counted}{' now' if reach.continuous else ''}"
    if reach.count == 0 and not reach.continuous:
        return f"{line}: nothing to notify"
    if f.timeline is not None and reach.count:
        line += f" in {time_text}" if not time_text.startswith("reaches") else f"; {time_text}"
    elif f.problem:
        line += f" ({f.problem})"
    if reach.continuous:
        line += ", and every thing that joins later"
    return f"{line}; {abort_text}"


def _moved(before: str, after: str) -> str:
    return after if before == after else f"{before} -> {after}"


def _cell(time_text: str) -> str:
    return time_text.removeprefix("about ")


def _abort_cell(f: Figures) -> str:
    text = f.abort_text
    return text.removeprefix("aborts after ") if text.startswith("aborts after ") else {
        "no abort criteria": "no criteria", "unknown": "unknown"}.get(text, "never trips")


def figures(request: Mapping[str, Any], counts: Mapping[str, TargetCount], *,
            start: datetime | None) -> Figures:
    """The figures of a job with this CreateJob (or DescribeJob) ``request``: its
    ``targets``, ``targetSelection``, ``jobExecutionsRolloutConfig``, ``schedulingConfig``
    and ``abortConfig``. ``start`` is when it starts without a ``startTime`` (naive: UTC)."""
    reach = Reach.of(request.get("targets") or [], counts,
                     continuous=request.get("targetSelection") == "CONTINUOUS")
    timeout = (request.get("timeoutConfig") or {}).get("inProgressTimeoutInMinutes")
    timeout = timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None
    if reach.count is None:
        return Figures(reach, None, (), timeout_minutes=timeout)
    problems: list[str] = []
    timeline: Timeline | None = None
    abort: tuple[AbortFigure, ...] = ()
    try:
        timeline = minutes_to_notify(reach.count, request.get("jobExecutionsRolloutConfig"),
                                     schedule=request.get("schedulingConfig"), start=start)
    except ValueError as exc:
        problems.append(str(exc))
    try:
        abort = tuple(abort_after(reach.count, request.get("abortConfig")))
    except ValueError as exc:
        problems.append(str(exc))
    return Figures(reach, timeline, abort, "; ".join(problems) or None, timeout)


def action_key(verb: str, region: str, job_id: str) -> str:
    """The key of a change's review in ``Plan.reviews``."""
    return f"{verb}:{region}:{job_id}"


def wave_key(region: str, job_id: str) -> str:
    """The key of a wave's review in ``Plan.reviews``."""
    return f"wave:{region}:{job_id}"
