"""Review figures against hand-worked cases: the timeline, maintenance windows in AWS cron,
and the abort criteria (engine.review). Each case shows its arithmetic.

2026-03-01 is a Sunday (2026-01-01 is a Thursday; +31 days is Sunday 1 February; February
2026 has 28 days), which the window cases lean on.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from engine.review import abort_after, minutes_to_notify
from engine.review.cron import Window, aws_weekday, parse_cron
from engine.review.timeline import duration_text

START = "2026-03-01T00:00"


def fixed(per_minute: int) -> dict[str, Any]:
    return {"maximumPerMinute": per_minute}


def exponential(base: int, factor: float, *, notified: int | None = None,
                succeeded: int | None = None, cap: int | None = None) -> dict[str, Any]:
    criteria = ({"numberOfNotifiedThings": notified} if notified is not None
                else {"numberOfSucceededThings": succeeded})
    rollout: dict[str, Any] = {"exponentialRate": {
        "baseRatePerMinute": base, "incrementFactor": factor, "rateIncreaseCriteria": criteria}}
    if cap is not None:
        rollout["maximumPerMinute"] = cap
    return rollout


def schedule(*windows: tuple[str, int], start: str | None = START,
             end: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if start:
        out["startTime"] = start
    if end:
        out["endTime"] = end
    if windows:
        out["maintenanceWindows"] = [{"startTime": cron, "durationInMinutes": minutes}
                                     for cron, minutes in windows]
    return out


def criterion(failure_type: str, percent: float, least: int) -> dict[str, Any]:
    return {"criteriaList": [{"failureType": failure_type, "action": "CANCEL",
                              "thresholdPercentage": percent,
                              "minNumberOfExecutedThings": least}]}


# --- the rate alone -------------------------------------------------------------------------

def test_timeline__fixed_rate__reach_over_rate() -> None:
    # 12,400 things at 100 a minute: 12,400 / 100 = 124 min = 2 h 4 min.
    timeline = minutes_to_notify(12_400, fixed(100))
    assert (timeline.minutes, timeline.notified_before_end, timeline.lower_bound) == \
        (124.0, None, False)
    assert timeline.text == "about 2 h 4 min"


def test_timeline__no_rollout_config__the_default_1000_a_minute() -> None:
    # No jobExecutionsRolloutConfig: AWS's 1,000 a minute; 12,400 / 1,000 = 12.4 min.
    timeline = minutes_to_notify(12_400, None)
    assert timeline.minutes == pytest.approx(12.4)
    assert timeline.text == "about 12 min"
    assert minutes_to_notify(12_400, {}).minutes == timeline.minutes


def test_timeline__reach_0__nothing_to_notify() -> None:
    timeline = minutes_to_notify(0, fixed(5), schedule=schedule(end="2026-03-01T01:00"))
    assert (timeline.minutes, timeline.notified_before_end, timeline.text) == \
        (0.0, None, "nothing to notify")


def test_timeline__reach_1__under_a_minute() -> None:
    # 1 / 1,000 = 0.001 min; 1 / 1 = 1 min exactly.
    assert minutes_to_notify(1, None).minutes == pytest.approx(0.001)
    assert minutes_to_notify(1, None).text == "under a minute"
    assert minutes_to_notify(1, fixed(1)).text == "about 1 min"


def test_timeline__exponential_cap_binds__rest_at_the_cap() -> None:
    # base 10, ×2 every 100 notified, cap 1,000, reach 1,000:
    # 100@10 = 10, 100@20 = 5, 100@40 = 2.5, 100@80 = 1.25, 100@160 = 0.625,
    # 100@320 = 0.3125, 100@640 = 0.15625, then 1,280 is capped: 300@1,000 = 0.3.
    # Total 20.14375 min.
    timeline = minutes_to_notify(1_000, exponential(10, 2, notified=100, cap=1_000))
    assert timeline.minutes == pytest.approx(20.14375)
    assert timeline.text == "about 20 min"
    assert not timeline.lower_bound


def test_timeline__exponential_cap_never_reached__the_rate_steps_alone() -> None:
    # Same rate, reach 300: 100@10 + 100@20 + 100@40 = 10 + 5 + 2.5 = 17.5 min; the rate
    # would reach 80, far below the cap of 1,000. 17.5 rounds to 18.
    timeline = minutes_to_notify(300, exponential(10, 2, notified=100, cap=1_000))
    assert timeline.minutes == pytest.approx(17.5)
    assert timeline.text == "about 18 min"


def test_timeline__exponential_without_maximum__capped_at_1000() -> None:
    # base 100, ×5 every 1,000 notified, no maximumPerMinute, reach 10,000:
    # 1,000@100 = 10, 1,000@500 = 2, then 2,500 is capped at 1,000: 8,000@1,000 = 8. 20 min.
    timeline = minutes_to_notify(10_000, exponential(100, 5, notified=1_000))
    assert timeline.minutes == pytest.approx(20.0)


def test_timeline__base_above_maximum__starts_at_the_maximum() -> None:
    # base 500 but at most 100 a minute: 1,000 / 100 = 10 min.
    assert minutes_to_notify(1_000, exponential(500, 2, notified=10, cap=100)).minutes == \
        pytest.approx(10.0)


def test_timeline__succeeded_criterion__same_figure_as_a_lower_bound() -> None:
    # As the cap-binds case, every notified thing taken to succeed at once: 20.14375 min,
    # and the real rollout can only be slower, so the text rounds down: "at least 20 min".
    timeline = minutes_to_notify(1_000, exponential(10, 2, succeeded=100, cap=1_000))
    assert timeline.minutes == pytest.approx(20.14375)
    assert timeline.lower_bound
    assert timeline.text == "at least 20 min"


def test_timeline__fractional_factor__kept_exact() -> None:
    # base 10, ×1.5 every 15 notified, reach 45: 15@10 = 1.5, 15@15 = 1, 15@22.5 = 2/3.
    # 3 1/6 min; the rate 22.5 is not rounded.
    timeline = minutes_to_notify(45, exponential(10, 1.5, notified=15))
    assert timeline.minutes == pytest.approx(1.5 + 1 + 2 / 3)


def test_timeline__ten_million_things__computed_in_rate_steps() -> None:
    # base 1, ×1.1 every thing: 73 increases reach 1,000 (1.1^72 < 1,000 < 1.1^73), so at
    # most 74 steps; the rest goes at 1,000 a minute: about 10,000,000 / 1,000 = 10,000 min.
    began = time.perf_counter()
    timeline = minutes_to_notify(10_000_000, exponential(1, 1.1, notified=1))
    assert time.perf_counter() - began < 0.5
    assert timeline.minutes is not None
    assert 10_000 < timeline.minutes < 10_100


# --- the schedule ---------------------------------------------------------------------------

def test_timeline__end_cuts_it_short__reaches_n_of_m() -> None:
    # 100 a minute from 22:00 to midnight: 120 min × 100 = 12,000 of 12,400.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        start="2026-03-01T22:00", end="2026-03-02T00:00"))
    assert (timeline.minutes, timeline.notified_before_end) == (None, 12_000)
    assert timeline.text == "reaches 12,000 of 12,400 before it ends"


def test_timeline__end_after_the_last_notification__finishes() -> None:
    # 124 min needed, 240 available: the end changes nothing.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        start="2026-03-01T22:00", end="2026-03-02T02:00"))
    assert (timeline.minutes, timeline.notified_before_end) == (124.0, None)


def test_timeline__schedule_start__wins_over_start_argument() -> None:
    # The schedule starts at 22:00 and ends at midnight: 120 min, 12,000 notified. Counted
    # from start= (00:00) it would have had 24 h.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        start="2026-03-01T22:00", end="2026-03-02T00:00"), start=datetime(2026, 3, 1))
    assert timeline.notified_before_end == 12_000


def test_timeline__end_during_exponential_steps__counts_by_the_rate_then() -> None:
    # base 10, ×2 every 100, 12 min until the end: 100 in the first 10 min at 10, then
    # 2 min at 20 = 40 more: 140 of 1,000.
    timeline = minutes_to_notify(1_000, exponential(10, 2, succeeded=100), schedule=schedule(
        end="2026-03-01T00:12"))
    assert timeline.notified_before_end == 140
    assert timeline.text == "reaches at most 140 of 1,000 before it ends"


def test_timeline__daily_window__notifies_only_inside_it() -> None:
    # 124 min needed, one hour a day from 22:00: 60 on 1 March, 60 on 2 March, the last 4
    # on 3 March at 22:04. From 1 March 00:00: 2 × 1,440 + 22 × 60 + 4 = 4,204 min
    # = 70.07 h, about 2 d 22 h.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? *)", 60)))
    assert timeline.minutes == 4_204.0
    assert timeline.text == "about 2 d 22 h"


def test_timeline__start_before_the_first_window__waits_for_it() -> None:
    # 3,000 at 100 a minute = 30 min; the schedule starts at 12:00 and the window opens at
    # 22:00: done at 22:30, 10 h 30 min after the start.
    timeline = minutes_to_notify(3_000, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? *)", 60), start="2026-03-01T12:00"))
    assert timeline.minutes == 630.0
    assert timeline.text == "about 10 h 30 min"


def test_timeline__weekly_window_open_at_the_start__counts_the_rest_of_it() -> None:
    # Sundays 02:00 for 3 h; created Sunday 1 March 03:00 (start=, no schedule start):
    # 120 min left that day, 180 on Sunday 8 March. 30,000 at 100 = 300 min: done on
    # 8 March at 05:00, 7 × 1,440 + 120 = 10,200 min after the start = 170 h = 7 d 2 h.
    timeline = minutes_to_notify(30_000, fixed(100), schedule=schedule(
        ("cron(0 2 ? * SUN *)", 180), start=None), start=datetime(2026, 3, 1, 3, 0))
    assert timeline.minutes == 10_200.0
    assert timeline.text == "about 7 d 2 h"


def test_timeline__windows_and_end__reaches_n_of_m() -> None:
    # One hour a day from 22:00, ending 2 March 22:30: 60 + 30 = 90 open minutes × 100
    # = 9,000 of 12,400.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? *)", 60), end="2026-03-02T22:30"))
    assert (timeline.minutes, timeline.notified_before_end) == (None, 9_000)
    assert timeline.text == "reaches 9,000 of 12,400 before it ends"


def test_timeline__exponential_across_windows__the_rate_carries_over() -> None:
    # base 10, ×2 every 100, reach 300 = 17.5 active min; 10 min a day from 22:00.
    # 1 March: 10 min at 10 = 100. 2 March: 100 at 20 = 5 min, then 100 at 40 = 2.5 min:
    # done at 22:07.5, 1,440 + 1,320 + 7.5 = 2,767.5 min after the start.
    timeline = minutes_to_notify(300, exponential(10, 2, notified=100), schedule=schedule(
        ("cron(0 22 * * ? *)", 10)))
    assert timeline.minutes == 2_767.5


def test_timeline__overlapping_windows__count_once() -> None:
    # 22:00 for 60 and 22:30 for 60: open 22:00 to 23:30, 90 min. 9,000 at 100 = 90 min:
    # done 1 March 23:30 = 1,410 min after the start.
    timeline = minutes_to_notify(9_000, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? *)", 60), ("cron(30 22 * * ? *)", 60)))
    assert timeline.minutes == 1_410.0


def test_timeline__window_across_midnight__open_at_a_start_after_midnight() -> None:
    # 23:00 for 120 min is open until 01:00; started 00:30, 30 min are left that night.
    # 3,000 at 100 = 30 min: done at 01:00, 30 min after the start.
    timeline = minutes_to_notify(3_000, fixed(100), schedule=schedule(
        ("cron(0 23 * * ? *)", 120), start="2026-03-02T00:30"))
    assert timeline.minutes == 30.0


def test_timeline__windows_that_never_open_again__reach_0() -> None:
    # A window only in 2025 opens before a 2026 start: nothing is ever notified.
    timeline = minutes_to_notify(12_400, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? 2025)", 60)))
    assert (timeline.minutes, timeline.notified_before_end) == (None, 0)
    assert timeline.text == "reaches 0 of 12,400 before its maintenance windows run out"


def test_timeline__a_year_of_windows__milliseconds() -> None:
    # Weekday evenings for a year, ten million things rising from 1 a minute: 261 windows.
    began = time.perf_counter()
    timeline = minutes_to_notify(
        10_000_000, exponential(1, 1.1, succeeded=1),
        schedule=schedule(("cron(0 22 ? * MON-FRI *)", 60), end="2027-03-01T00:00"))
    assert time.perf_counter() - began < 0.1
    assert timeline.minutes is not None and timeline.lower_bound


def test_timeline__timezone_aware_start__read_in_utc() -> None:
    # 23:30 at UTC+1 is 22:30 UTC, half-way through the 22:00 window: 30 min left.
    plus_one = timezone(timedelta(hours=1))
    timeline = minutes_to_notify(6_000, fixed(100), schedule=schedule(
        ("cron(0 22 * * ? *)", 60), start=None), start=datetime(2026, 3, 1, 23, 30,
                                                                 tzinfo=plus_one))
    # 30 min that night, the other 30 on 2 March 22:00-22:30: 24 h after the start.
    assert timeline.minutes == 1_440.0


@pytest.mark.parametrize(("rollout", "message"), [
    ({"exponentialRate": {"baseRatePerMinute": 10, "incrementFactor": 2,
                          "rateIncreaseCriteria": {}}}, "exactly one"),
    ({"exponentialRate": {"baseRatePerMinute": 10, "incrementFactor": 2,
                          "rateIncreaseCriteria": {"numberOfNotifiedThings": 5,
                                                   "numberOfSucceededThings": 5}}},
     "exactly one"),
    (exponential(10, 1.0, notified=5), "above 1"),
    (exponential(0, 2, notified=5), "baseRatePerMinute"),
    (fixed(0), "maximumPerMinute"),
    (fixed(-1), "maximumPerMinute"),
])
def test_timeline__unreadable_rollout__value_error(rollout: dict[str, Any],
                                                   message: str) -> None:
    with pytest.raises(ValueError, match=message):
        minutes_to_notify(10, rollout)


def test_timeline__windows_without_any_start__value_error() -> None:
    with pytest.raises(ValueError, match="need a start"):
        minutes_to_notify(10, None, schedule=schedule(("cron(0 22 * * ? *)", 60), start=None))


def test_duration_text__days_hours_and_minutes() -> None:
    assert duration_text(190) == "about 3 h 10 min"
    assert duration_text(180.2) == "about 3 h"
    assert duration_text(59.6) == "about 1 h"
    assert duration_text(59.6, lower_bound=True) == "at least 59 min"
    assert duration_text(0.5, lower_bound=True) == "under a minute at the fastest"
    assert duration_text(3 * 1_440 + 4 * 60 + 10) == "about 3 d 4 h"
    assert duration_text(2 * 1_440) == "about 2 d"


# --- AWS cron ---------------------------------------------------------------------------------

def test_cron__weekday_names_ranges_lists_and_steps() -> None:
    cron = parse_cron("cron(0/15 22,23 ? * MON-FRI *)")
    assert cron.minutes == {0, 15, 30, 45} and cron.hours == {22, 23}
    assert cron.days_of_month is None and cron.days_of_week == {2, 3, 4, 5, 6}
    assert cron.fires_on(date(2026, 3, 2)) and not cron.fires_on(date(2026, 3, 1))
    assert parse_cron("cron(5 */6 1-10/3 JAN,jul ? 2026-2027)").hours == {0, 6, 12, 18}
    assert parse_cron("cron(5 */6 1-10/3 JAN,jul ? 2026-2027)").days_of_month == {1, 4, 7, 10}
    assert parse_cron("cron(5 */6 1-10/3 JAN,jul ? 2026-2027)").months == {1, 7}


def test_cron__day_of_week_1_is_sunday() -> None:
    assert aws_weekday(date(2026, 3, 1)) == 1  # a Sunday
    assert aws_weekday(date(2026, 3, 7)) == 7  # a Saturday
    assert parse_cron("cron(0 2 ? * 1 *)") == parse_cron("cron(0 2 ? * SUN *)")


@pytest.mark.parametrize(("text", "message"), [
    ("cron(0 22 L * ? *)", "'L'.*not supported"),
    ("cron(0 22 15W * ? *)", "not supported"),
    ("cron(0 22 ? * 3#2 *)", "not supported"),
    ("cron(0 22 * * MON *)", "exactly one"),
    ("cron(0 22 ? * ? *)", "exactly one"),
    ("cron(0 22 ? * FRI-MON *)", "wraps"),
    ("cron(0 24 * * ? *)", "outside 0..23"),
    ("cron(0 22 * * ?)", "six"),
    ("0 22 * * ? *", "not AWS cron"),
    ("cron(? 22 * * ? *)", "only in day"),
    ("cron(0/0 22 * * ? *)", "step"),
])
def test_cron__unsupported_or_invalid__value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(text)


def test_window__long_window__runs_into_the_next_day() -> None:
    assert Window.of({"startTime": "cron(0 23 * * ? *)", "durationInMinutes": 1_430}) \
        .day_intervals() == [(1_380, 2_810)]


# --- abort criteria ---------------------------------------------------------------------------

def test_abort__failed_5_percent_of_50__620_of_12400() -> None:
    # DESIGN's example: ceil(5% × 12,400) = 620 ≥ 50, so at most 620, of all 12,400; at the
    # earliest ceil(5% × 50) = 3 (the first 50 executed hold 3 failures). Exact: in floats
    # 0.05 × 12,400 is 620.0000000000001, which would round up to 621.
    (figure,) = abort_after(12_400, criterion("FAILED", 5, 50))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == (620, 12_400, 3)
    assert figure.text == "FAILED: after 5% of at least 50 executed: 620 of 12,400 at most"
    assert figure.as_review() == {"failureType": "FAILED", "afterFailures": 620,
                                  "ofExecuted": 12_400}


def test_abort__rejected_two_decimals__rounds_up() -> None:
    # 10.99% × 1,000 = 109.9, so 110 at most; 10.99% × 100 = 10.99, so 11 at the earliest.
    (figure,) = abort_after(1_000, criterion("REJECTED", 10.99, 100))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == (110, 1_000, 11)


def test_abort__timed_out_minimum_above_the_share__the_first_ones_may_all_fail() -> None:
    # 5% × 12,400 = 620 surely cancel; but nothing is judged before 1,000 have executed, so
    # if the first 1,000 all time out, 1,000 do before the cancel. At the earliest 5% × 1,000
    # = 50.
    (figure,) = abort_after(12_400, criterion("TIMED_OUT", 5.0, 1_000))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == \
        (620, 12_400, 50)
    assert figure.text == ("TIMED_OUT: after 5% of at least 1,000 executed: 620 of 12,400 "
                           "at most (up to 1,000 if the first 1,000 all fail)")


def test_abort__all_types_at_100_percent__every_thing() -> None:
    # 100% × 500 = 500: 499 failures and one success never trip it; at the earliest the
    # first 10 all fail.
    (figure,) = abort_after(500, criterion("ALL", 100, 10))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == (500, 500, 10)


def test_abort__threshold_0__cancels_once_the_minimum_has_executed() -> None:
    # failures ≥ 0% of executed always holds: 0 failures are enough, it trips at the 20th
    # execution whatever happened.
    (figure,) = abort_after(500, criterion("FAILED", 0, 20))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == (0, 500, 0)
    assert figure.text == ("FAILED: 0% of at least 20 executed: cancels once 20 have "
                           "executed, failed or not")


def test_abort__reach_below_the_minimum__never_trips() -> None:
    (figure,) = abort_after(30, criterion("FAILED", 5, 50))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == \
        (None, None, None)
    assert figure.text == "FAILED: never trips: 30 reached, fewer than the 50 executed it needs"


def test_abort__reach_equal_to_the_minimum__judged_once_at_the_end() -> None:
    # 5% × 50 = 2.5 → 3 surely cancel, but only at the 50th execution, when all 50 may
    # have failed.
    (figure,) = abort_after(50, criterion("FAILED", 5, 50))
    assert (figure.after_failures, figure.of_executed, figure.fewest_failures) == (3, 50, 3)
    assert figure.text.endswith("3 of 50 at most (up to 50 if the first 50 all fail)")


def test_abort__several_criteria__in_their_order_and_none_for_no_config() -> None:
    config = {"criteriaList": [*criterion("FAILED", 5, 50)["criteriaList"],
                               *criterion("REJECTED", 1, 10)["criteriaList"]]}
    assert [f.failure_type for f in abort_after(12_400, config)] == ["FAILED", "REJECTED"]
    assert abort_after(12_400, None) == []


@pytest.mark.parametrize("bad", [
    {"thresholdPercentage": 101, "minNumberOfExecutedThings": 1},
    {"thresholdPercentage": 5, "minNumberOfExecutedThings": 0},
])
def test_abort__unreadable_criterion__value_error(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        abort_after(10, {"criteriaList": [{"failureType": "FAILED", **bad}]})
