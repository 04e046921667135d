"""Properties of the review figures (hypothesis): more reach never takes less time; a higher
rate, base or factor never takes more; nothing is faster than reach / maximumPerMinute (or
1,000); longer maintenance windows never take more; a succeeded criterion gives the
notified figure as a lower bound; and the abort figures agree with brute force over every
order of outcomes of small rollouts."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.review import Timeline, abort_after, minutes_to_notify

START = "2026-03-01T00:00"

reaches = st.integers(0, 10_000_000)
rates = st.integers(1, 1_000)
factors = st.integers(11, 50).map(lambda tenths: tenths / 10)  # 1.1 to 5.0, one decimal
criteria = st.integers(1, 100_000)
caps = st.one_of(st.none(), rates)


def rollout(base: int | None, factor: float, criterion: int, cap: int | None) -> dict[str, Any]:
    """base None: a fixed rate (cap, or the default)."""
    out: dict[str, Any] = {} if cap is None else {"maximumPerMinute": cap}
    if base is not None:
        out["exponentialRate"] = {"baseRatePerMinute": base, "incrementFactor": factor,
                                  "rateIncreaseCriteria": {"numberOfNotifiedThings": criterion}}
    return out


rollouts = st.builds(rollout, st.one_of(st.none(), rates), factors, criteria, caps)


@st.composite
def schedules(draw: st.DrawFn, duration: int | None = None) -> dict[str, Any] | None:
    """None, an end alone, or a daily window with an end (so no case runs for years)."""
    kind = draw(st.sampled_from(["none", "end", "window"]))
    if kind == "none":
        return None
    days, minutes = draw(st.integers(0, 60)), draw(st.integers(0, 1_439))
    end = (datetime(2026, 3, 1) + timedelta(days=days, minutes=30 + minutes)) \
        .strftime("%Y-%m-%dT%H:%M")
    out: dict[str, Any] = {"startTime": START, "endTime": end}
    if kind == "window":
        hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
        out["maintenanceWindows"] = [{
            "startTime": f"cron({minute} {hour} * * ? *)",
            "durationInMinutes": duration or draw(st.integers(1, 1_430))}]
    return out


def slowness(timeline: Timeline) -> tuple[int, float]:
    """Orders timelines from fastest: finished sooner, then (not finished) more notified."""
    if timeline.minutes is not None:
        return 0, timeline.minutes
    assert timeline.notified_before_end is not None
    return 1, -timeline.notified_before_end


@settings(max_examples=200, deadline=None)
@given(reaches, reaches, rollouts, schedules())
def test_timeline__more_reach__never_less_time(a: int, b: int, config: dict[str, Any],
                                               schedule: dict[str, Any] | None) -> None:
    small, large = sorted((a, b))
    assert slowness(minutes_to_notify(large, config, schedule=schedule)) >= \
        slowness(minutes_to_notify(small, config, schedule=schedule))


@settings(max_examples=200, deadline=None)
@given(reaches, rates, rates, factors, factors, criteria, criteria, caps, caps, schedules())
def test_timeline__higher_base_factor_cap_or_sooner_increase__never_more_time(
        reach: int, base_a: int, base_b: int, factor_a: float, factor_b: float,
        criterion_a: int, criterion_b: int, cap_a: int | None, cap_b: int | None,
        schedule: dict[str, Any] | None) -> None:
    base_low, base_high = sorted((base_a, base_b))
    factor_low, factor_high = sorted((factor_a, factor_b))
    criterion_soon, criterion_late = sorted((criterion_a, criterion_b))
    cap_low, cap_high = sorted((cap_a or 1_000, cap_b or 1_000))
    slow = rollout(base_low, factor_low, criterion_late, cap_low)
    fast = rollout(base_high, factor_high, criterion_soon, cap_high)
    assert slowness(minutes_to_notify(reach, fast, schedule=schedule)) <= \
        slowness(minutes_to_notify(reach, slow, schedule=schedule))
    fixed_slow, fixed_fast = rollout(None, 2, 1, cap_low), rollout(None, 2, 1, cap_high)
    assert slowness(minutes_to_notify(reach, fixed_fast, schedule=schedule)) <= \
        slowness(minutes_to_notify(reach, fixed_slow, schedule=schedule))


@settings(max_examples=200, deadline=None)
@given(reaches, rollouts, schedules())
def test_timeline__never_faster_than_reach_over_the_cap(
        reach: int, config: dict[str, Any], schedule: dict[str, Any] | None) -> None:
    timeline = minutes_to_notify(reach, config, schedule=schedule)
    cap = config.get("maximumPerMinute") or 1_000
    if timeline.minutes is not None:
        assert timeline.minutes >= reach / cap
    else:
        assert timeline.notified_before_end is not None
        assert 0 <= timeline.notified_before_end < reach


@settings(max_examples=100, deadline=None)
@given(reaches, rollouts, st.integers(1, 1_430), st.integers(1, 1_430), st.data())
def test_timeline__longer_window__never_more_time(
        reach: int, config: dict[str, Any], a: int, b: int, data: st.DataObject) -> None:
    short, long = sorted((a, b))
    schedule = data.draw(schedules(duration=short))
    if schedule is None or "maintenanceWindows" not in schedule:
        return
    longer = {**schedule, "maintenanceWindows": [
        {**schedule["maintenanceWindows"][0], "durationInMinutes": long}]}
    assert slowness(minutes_to_notify(reach, config, schedule=longer)) <= \
        slowness(minutes_to_notify(reach, config, schedule=schedule))


@settings(max_examples=100, deadline=None)
@given(reaches, rates, factors, criteria, caps, schedules())
def test_timeline__succeeded_criterion__the_notified_figure_as_a_lower_bound(
        reach: int, base: int, factor: float, criterion: int, cap: int | None,
        schedule: dict[str, Any] | None) -> None:
    notified = rollout(base, factor, criterion, cap)
    succeeded = {**notified, "exponentialRate": {
        **notified["exponentialRate"],
        "rateIncreaseCriteria": {"numberOfSucceededThings": criterion}}}
    a = minutes_to_notify(reach, notified, schedule=schedule)
    b = minutes_to_notify(reach, succeeded, schedule=schedule)
    assert (b.minutes, b.notified_before_end, b.lower_bound) == \
        (a.minutes, a.notified_before_end, True)


def trip(outcomes: tuple[bool, ...], share: Fraction, least: int) -> int | None:
    """Brute force: the number of executions at which the criterion trips (None: never)."""
    failures = 0
    for executed, failed in enumerate(outcomes, 1):
        failures += failed
        if executed >= least and failures >= share * executed:
            return executed
    return None


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 10), st.integers(1, 10),
       st.sampled_from([0, 1, 5, 10, 10.99, 25, 33.33, 50, 66.67, 99.99, 100]))
def test_abort__figures__agree_with_every_order_of_outcomes(reach: int, least: int,
                                                            percent: float) -> None:
    (figure,) = abort_after(reach, {"criteriaList": [{
        "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": percent,
        "minNumberOfExecutedThings": least}]})
    share = Fraction(repr(percent)) / 100 if isinstance(percent, float) else Fraction(percent, 100)
    orders = list(itertools.product((False, True), repeat=reach))
    if reach < least:
        assert figure.after_failures is None
        assert all(trip(order, share, least) is None for order in orders)
        return
    after = figure.after_failures
    assert after is not None and figure.of_executed == reach
    at_trip = []
    for order in orders:
        tripped = trip(order, share, least)
        if sum(order) >= after:
            # The after-th failure cancels: by it, or by the least-th execution if later.
            nth = [i for i, failed in enumerate(order, 1) if failed][after - 1] if after else 0
            assert tripped is not None and tripped <= max(nth, least)
        if tripped is not None:
            at_trip.append(sum(order[:tripped]))
    # after - 1 failures can pass with no cancel: the failures last.
    if after >= 1:
        assert trip((False,) * (reach - after + 1) + (True,) * (after - 1), share, least) is None
    assert min(at_trip) == figure.fewest_failures
    assert max(at_trip) <= max(after, least)
    if least > after:
        assert max(at_trip) == least
    assert math.ceil(share * reach) == after
