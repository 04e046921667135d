"""How long a job takes to notify every thing it reaches (DESIGN.md section 11). Pure.

The arithmetic, and the AWS behaviour each step stands on:

- A job notifies things at a rate per minute. A fixed rate is ``maximumPerMinute``
  ("the maximum number of things that will be notified of a pending job, per minute",
  https://docs.aws.amazon.com/iot/latest/apireference/API_JobExecutionsRolloutConfig.html).
  Without one, AWS rolls out "at a rate of 1000 devices per minute"
  (https://docs.aws.amazon.com/iot/latest/developerguide/job-limits.html), the cap used here.
- An exponential rate starts at ``baseRatePerMinute`` and is multiplied by
  ``incrementFactor`` each time the criterion's number of things more have been notified
  (or have succeeded) since the last increase, never above the cap
  (https://docs.aws.amazon.com/iot/latest/apireference/API_ExponentialRolloutRate.html,
  https://docs.aws.amazon.com/iot/latest/apireference/API_RateIncreaseCriteria.html,
  https://docs.aws.amazon.com/iot/latest/developerguide/jobs-configurations-details.html).
- Notification is modelled as a steady flow, not whole-minute batches: at r per minute, n
  things take n / r minutes (12,400 at 100/min: 124 minutes; 1 at 1,000/min: 0.06 s). The
  rate is kept exact (a Fraction, never rounded) and rises the moment a criterion is met.
  AWS paces in per-minute steps, so a real rollout may differ by about a minute per rate
  step; the text rounds to the minute anyway.
- With ``numberOfSucceededThings`` the timeline assumes every notified thing succeeds at
  once; real things succeed later (or fail), so the rate rises later: a lower bound.
- Maintenance windows gate the rollout: things are notified only while a window is open
  ("a recurring maintenance window ... for the rollout of a job document",
  https://docs.aws.amazon.com/iot/latest/apireference/API_MaintenanceWindow.html), and the
  rate carries from one window to the next. A window already open at the start counts
  from the start. ``endTime`` stops the rollout (whatever ``endBehavior``: all three stop
  notifying; https://docs.aws.amazon.com/iot/latest/apireference/API_SchedulingConfig.html).

Active minutes (minutes in which notifying may happen) are computed from the rate alone,
in O(rate steps): at most about 73 increases reach the cap (1.1^73 > 1,000), then the rest
goes at the cap in one step, so a reach of ten million costs the same as one of ten.
Windows turn active minutes into clock minutes, one merged window at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from engine.review.cron import EPOCH_ORDINAL, MINUTES_PER_DAY, Window, open_blocks

DEFAULT_MAXIMUM_PER_MINUTE = 1000
# AWS cron years end at 2199; a rollout whose windows have not finished it by then never does.
LAST_DAY = date(2199, 12, 31)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Timeline:
    """Minutes from the job's start until every reached thing is notified.

    ``minutes`` is None when the schedule ends (or its windows run out) first;
    ``notified_before_end`` then says how many are notified by then (None when all are).
    ``lower_bound``: the rate rises on succeeded things, so it can only take longer.
    """

    minutes: float | None
    notified_before_end: int | None
    lower_bound: bool
    text: str


@dataclass(frozen=True)
class Pace:
    """A rollout config read for its arithmetic."""

    base: Fraction
    cap: Fraction
    factor: Fraction | None = None  # None: a fixed rate
    criterion: int = 0
    on_succeeded: bool = False

    @classmethod
    def of(cls, rollout: dict[str, Any] | None) -> Pace:
        rollout = rollout or {}
        maximum = rollout.get("maximumPerMinute")
        cap = _positive(DEFAULT_MAXIMUM_PER_MINUTE if maximum is None else maximum,
                        "maximumPerMinute")
        exponential = rollout.get("exponentialRate")
        if not exponential:
            return cls(cap, cap)
        base = _positive(exponential.get("baseRatePerMinute"), "baseRatePerMinute")
        factor = _positive(exponential.get("incrementFactor"), "incrementFactor")
        if factor <= 1:
            raise ValueError(f"incrementFactor must be above 1, not {float(factor)}")
        criteria = {key: value for key, value in
                    (exponential.get("rateIncreaseCriteria") or {}).items() if value is not None}
        if len(criteria) != 1 or not criteria.keys() <= {"numberOfNotifiedThings",
                                                         "numberOfSucceededThings"}:
            raise ValueError("rateIncreaseCriteria needs exactly one of numberOfNotifiedThings "
                             "and numberOfSucceededThings")
        (key, value), = criteria.items()
        criterion = _positive(value, key)
        if criterion.denominator != 1:
            raise ValueError(f"{key} must be a whole number, not {value!r}")
        # A base above the cap starts at the cap: maximumPerMinute bounds every minute.
        return cls(min(base, cap), cap, factor, int(criterion),
                   key == "numberOfSucceededThings")

    def steps(self, reach: int) -> list[tuple[int, Fraction]]:
        """(things, rate) in order: the reach cut where the rate rises."""
        out: list[tuple[int, Fraction]] = []
        left, rate = reach, self.base
        while left > 0:
            if self.factor is None or rate >= self.cap:
                out.append((left, rate))
                break
            chunk = min(self.criterion, left)
            out.append((chunk, rate))
            left -= chunk
            rate = min(rate * self.factor, self.cap)
        return out


def minutes_to_notify(reach: int, rollout: dict[str, Any] | None, *,
                      schedule: dict[str, Any] | None = None,
                      start: datetime | None = None) -> Timeline:
    """The timeline of a job of ``reach`` things with this ``jobExecutionsRolloutConfig``
    and ``schedulingConfig`` (API-shaped dicts).

    The job starts at the schedule's ``startTime`` or, without one, at ``start`` (when it is
    created: the caller passes its clock; naive means UTC). Either is needed only when the
    schedule has an ``endTime`` or maintenance windows; a missing one is a ValueError, as is
    a rollout config or cron expression this cannot read.
    """
    if reach < 0:
        raise ValueError(f"reach must be 0 or more, not {reach}")
    pace = Pace.of(rollout)
    steps = pace.steps(reach)
    active = sum((Fraction(count) / rate for count, rate in steps), Fraction(0))
    schedule = schedule or {}
    windows = [Window.of(entry) for entry in schedule.get("maintenanceWindows") or []]
    end_text = schedule.get("endTime")
    lower = pace.on_succeeded
    if reach == 0:
        return Timeline(0.0, None, lower, "nothing to notify")
    if not windows and not end_text:
        return Timeline(float(active), None, lower, duration_text(float(active), lower))
    start_text = schedule.get("startTime")
    if start_text:
        begin = _minute(_parse_time(start_text, "startTime"))
    elif start is not None:
        begin = _minute(start)
    else:
        raise ValueError("an endTime or maintenance windows need a start: the schedule's "
                         "startTime, or start= (when the job is created)")
    end = _minute(_parse_time(end_text, "endTime")) if end_text else None
    finish, open_minutes = _clock(active, begin, end, windows)
    if finish is not None:
        minutes = float(finish - begin)
        return Timeline(minutes, None, lower, duration_text(minutes, lower))
    notified = min(reach - 1, math.floor(_notified_after(open_minutes, steps)))
    until = "it ends" if end is not None else "its maintenance windows run out"
    return Timeline(None, notified, lower,
                    f"reaches {'at most ' if lower else ''}{notified:,} of {reach:,} "
                    f"before {until}")


def _clock(active: Fraction, begin: Fraction, end: Fraction | None,
           windows: list[Window]) -> tuple[Fraction | None, Fraction]:
    """When ``active`` open minutes have passed since ``begin`` (None: not before the end or
    the last window), and the open minutes there were by then."""
    if not windows:
        assert end is not None  # without windows or an end there is nothing to place
        available = max(end - begin, Fraction(0))
        return (begin + active, active) if active <= available else (None, available)
    # A window opened the day before may still be open at the start.
    first = _day(begin) - timedelta(days=1)
    last = min(_day(end), LAST_DAY) if end is not None else LAST_DAY
    # The loop runs once a day for as long as the rollout lasts, so whole days are added
    # in integers: a block of whole minutes fits iff it fits before the rounded bounds.
    got = Fraction(0)
    whole_days = 0
    after_begin = math.ceil(begin)
    before_end = math.floor(end) if end is not None else None
    stop = math.ceil(end) if end is not None else None
    room = math.ceil(active)  # whole_days + total < room  <=>  < active - got
    for block in open_blocks(windows, first, last):
        if stop is not None and block.first >= stop:
            break
        total = block.total
        if (block.first >= after_begin and (before_end is None or block.last <= before_end)
                and whole_days + total < room):
            whole_days += total
            continue
        for span_start, span_end in block.spans():
            low = max(Fraction(span_start), begin)
            high = Fraction(span_end) if end is None else min(Fraction(span_end), end)
            if high <= low:
                continue
            got += whole_days
            whole_days = 0
            if got + (high - low) >= active:
                return low + (active - got), active
            got += high - low
            room = math.ceil(active - got)
    return None, got + whole_days


def _notified_after(minutes: Fraction, steps: list[tuple[int, Fraction]]) -> Fraction:
    done = Fraction(0)
    for count, rate in steps:
        need = Fraction(count) / rate
        if minutes <= need:
            return done + minutes * rate
        done += count
        minutes -= need
    return done


def duration_text(minutes: float, lower_bound: bool = False) -> str:
    """"about 3 h 10 min", "at least 2 d 4 h", "under a minute"."""
    if minutes < 1:
        return "under a minute at the fastest" if lower_bound else "under a minute"
    # A lower bound rounds down, so "at least" stays true.
    whole = math.floor(minutes) if lower_bound else math.floor(minutes + 0.5)
    prefix = "at least" if lower_bound else "about"
    if whole < 60:
        return f"{prefix} {whole} min"
    if whole < MINUTES_PER_DAY:
        hours, rest = divmod(whole, 60)
        return f"{prefix} {hours} h" + (f" {rest} min" if rest else "")
    total_hours = whole // 60 if lower_bound else math.floor(whole / 60 + 0.5)
    days, hours = divmod(total_hours, 24)
    return f"{prefix} {days} d" + (f" {hours} h" if hours else "")


def _positive(value: Any, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a number above 0, not {value!r}")
    # repr gives the decimal as written (1.1, not 1.100000000000000088...).
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _parse_time(text: Any, name: str) -> datetime:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"schedulingConfig.{name} {text!r} is not YYYY-MM-DDTHH:MM") from None


def _minute(moment: datetime) -> Fraction:
    """Minutes since 1970-01-01 UTC, exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - EPOCH
    return (Fraction(delta.days * MINUTES_PER_DAY) + Fraction(delta.seconds, 60)
            + Fraction(delta.microseconds, 60_000_000))


def _day(minute: Fraction) -> date:
    return date.fromordinal(EPOCH_ORDINAL + math.floor(minute / MINUTES_PER_DAY))
