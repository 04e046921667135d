"""Maintenance windows: AWS cron read far enough to say when a window is open. Pure.

A window's ``startTime`` is ``cron(Minutes Hours Day-of-month Month Day-of-week Year)`` in
UTC, the syntax of https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
(day-of-week 1 is Sunday, 7 Saturday). Supported: numbers, month and day names, ``*``,
``?``, lists, ranges and ``/`` steps, which covers daily and weekly windows. Refused with a
``ValueError`` that says so: the ``L``, ``W`` and ``#`` wildcards, a range that wraps
(``FRI-MON``), and what AWS itself refuses (a value in both day fields, ``?`` in neither).

Each firing opens a window for ``durationInMinutes`` (1 to 1,430, so a window ends before
the same time the next day); windows that overlap count once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

MINUTES_PER_DAY = 1440
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MONTHS = {name: n for n, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
WEEKDAYS = {name: n for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
# (name, lowest, highest, names) of the six fields, in order.
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTHS), ("day-of-week", 1, 7, WEEKDAYS), ("year", 1970, 2199, {}),
)


@dataclass(frozen=True)
class Cron:
    """The values each field allows; a day field of None is ``?`` (any day)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    years: frozenset[int]

    def fires_on(self, day: date) -> bool:
        return (day.year in self.years and day.month in self.months
                and (self.days_of_month is None or day.day in self.days_of_month)
                and (self.days_of_week is None or aws_weekday(day) in self.days_of_week))

    def minutes_of_day(self) -> list[int]:
        """When it fires on a day it fires on, in minutes after midnight, ascending."""
        return sorted(h * 60 + m for h in self.hours for m in self.minutes)


@dataclass(frozen=True)
class Window:
    """One ``maintenanceWindows`` entry."""

    cron: Cron
    duration: int

    @classmethod
    def of(cls, data: dict[str, object]) -> Window:
        duration = data.get("durationInMinutes")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
            raise ValueError(f"maintenance window durationInMinutes must be a whole number "
                             f"of minutes, 1 or more, not {duration!r}")
        return cls(parse_cron(str(data.get("startTime"))), duration)

    def day_intervals(self) -> list[tuple[int, int]]:
        """The open [start, end) minutes of a day it fires on, from that day's midnight,
        merged; the last may run into the next day."""
        return merged((m, m + self.duration) for m in self.cron.minutes_of_day())


def aws_weekday(day: date) -> int:
    # Python counts Monday 0 .. Sunday 6; AWS counts Sunday 1 .. Saturday 7.
    return (day.weekday() + 1) % 7 + 1


def parse_cron(text: str) -> Cron:
    """``cron(...)`` as a window's startTime spells it; ValueError names what it refuses."""
    body = text.strip()
    if not (body.startswith("cron(") and body.endswith(")")):
        raise ValueError(f"{text!r} is not AWS cron: expected cron(Minutes Hours "
                         "Day-of-month Month Day-of-week Year)")
    parts = body[5:-1].split()
    if len(parts) != len(FIELDS):
        raise ValueError(f"{text!r} has {len(parts)} fields; AWS cron has six: Minutes Hours "
                         "Day-of-month Month Day-of-week Year")
    values = [_field(part, *spec, text) for part, spec in zip(parts, FIELDS, strict=True)]
    minutes, hours, dom, months, dow, years = values
    if (dom is None) == (dow is None):
        raise ValueError(f"{text!r}: AWS cron needs ? in exactly one of day-of-month and "
                         "day-of-week")
    assert minutes is not None and hours is not None and months is not None
    assert years is not None
    return Cron(minutes, hours, dom, months, dow, years)


def _field(part: str, name: str, low: int, high: int, names: dict[str, int],
           text: str) -> frozenset[int] | None:
    if part == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise ValueError(f"{text!r}: ? is allowed only in day-of-month and day-of-week")
        return None
    allowed: set[int] = set()
    for item in part.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{text!r}: the {name} step {step_text!r} is not a whole "
                                 "number of 1 or more")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = (_value(first_text, name, low, high, names, text),
                           _value(last_text, name, low, high, names, text))
            if first > last:
                raise ValueError(f"{text!r}: the {name} range {base!r} wraps around; "
                                 "write it as two ranges")
        else:
            first = _value(base, name, low, high, names, text)
            last = high if step_text else first
        allowed.update(range(first, last + 1, step))
    return frozenset(allowed)


def _value(atom: str, name: str, low: int, high: int, names: dict[str, int],
           text: str) -> int:
    if atom.isdigit():
        number = int(atom)
    elif atom.upper() in names:
        number = names[atom.upper()]
    else:
        raise ValueError(f"{text!r}: {atom!r} in the {name} field is not supported by the "
                         "review figures (numbers, names, *, ?, lists, ranges and / steps "
                         "are; L, W and # are not)")
    if not low <= number <= high:
        raise ValueError(f"{text!r}: {name} {number} is outside {low}..{high}")
    return number


def merged(intervals: Iterator[tuple[int, int]] | Sequence[tuple[int, int]]
           ) -> list[tuple[int, int]]:
    """Overlapping or touching [start, end) intervals joined, ascending."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass(frozen=True)
class Block:
    """Disjoint open spans, ascending: ``pattern[lo:hi]`` shifted by ``offset`` minutes,
    with the total known without walking them."""

    offset: int
    pattern: tuple[tuple[int, int], ...]
    sums: tuple[int, ...]  # sums[i]: the length of pattern[:i]
    lo: int
    hi: int

    @classmethod
    def single(cls, start: int, end: int) -> Block:
        return cls(0, ((start, end),), (0, end - start), 0, 1)

    @property
    def first(self) -> int:
        return self.offset + self.pattern[self.lo][0]

    @property
    def last(self) -> int:
        return self.offset + self.pattern[self.hi - 1][1]

    @property
    def total(self) -> int:
        return self.sums[self.hi] - self.sums[self.lo]

    def spans(self) -> Iterator[tuple[int, int]]:
        for start, end in self.pattern[self.lo:self.hi]:
            yield self.offset + start, self.offset + end


def open_blocks(windows: Sequence[Window], first: date, last: date) -> Iterator[Block]:
    """When some window is open, as merged spans in minutes since 1970-01-01 UTC, for the
    windows that open on the days ``first`` to ``last``, ascending.

    A day's spans depend only on which windows fire that day, so each such pattern is
    merged once and a day costs O(1) beyond its first span: a year of windows is a few
    hundred steps, a century of five-minute windows a fraction of a second. Only days whose
    year and month some window names are visited.
    """
    patterns: dict[tuple[int, ...], tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = {}
    day_spans = [window.day_intervals() for window in windows]
    years = sorted({y for w in windows for y in w.cron.years if first.year <= y <= last.year})
    months = sorted({m for w in windows for m in w.cron.months})
    carry: tuple[int, int] | None = None  # the last span so far; the next day may extend it
    for year in years:
        for month in months:
            for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
                day = date(year, month, day_number)
                if day < first:
                    continue
                if day > last:
                    break
                key = tuple(i for i, w in enumerate(windows) if w.cron.fires_on(day))
                if not key:
                    continue
                if key not in patterns:
                    pattern = tuple(merged([span for i in key for span in day_spans[i]]))
                    running = [0]
                    for start, end in pattern:
                        running.append(running[-1] + end - start)
                    patterns[key] = pattern, tuple(running)
                pattern, sums = patterns[key]
                midnight = (day.toordinal() - EPOCH_ORDINAL) * MINUTES_PER_DAY
                # Spans that start inside the carried one join it (a long window from the
                # day before can cover several of today's).
                j = 0
                if carry is not None:
                    while j < len(pattern) and midnight + pattern[j][0] <= carry[1]:
                        carry = (carry[0], max(carry[1], midnight + pattern[j][1]))
                        j += 1
                    if j == len(pattern):
                        continue
                    yield Block.single(*carry)
                if j < len(pattern) - 1:
                    yield Block(midnight, pattern, sums, j, len(pattern) - 1)
                carry = (midnight + pattern[-1][0], midnight + pattern[-1][1])
    if carry is not None:
        yield Block.single(*carry)
