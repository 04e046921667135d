"""Promotion gates judged from a wave's job progress, alarms, approval and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.gates import Gate, Progress, read_gate

NOW = datetime(2026, 11, 29, 12, 0)
FULL = Gate(min_succeeded=20, max_failed_percent=2, min_executed=10, soak_minutes=60,
            alarms=("crash-rate",), approval=True)


def _progress(succeeded: int = 0, failed: int = 0, *, status: str = "IN_PROGRESS",
              minutes: float = 0, **more: int) -> Progress:
    counts = {"numberOfSucceededThings": succeeded, "numberOfFailedThings": failed}
    counts.update({f"numberOf{k[0].upper()}{k[1:]}Things": v for k, v in more.items()})
    return Progress(status, counts, NOW - timedelta(minutes=minutes))


def _read(gate: Gate, progress: Progress, alarms: dict[str, str] | None = None,
          promoted: bool = True) -> tuple[str, str]:
    reading = read_gate(gate, progress, {"crash-rate": "OK"} if alarms is None else alarms,
                        promoted=promoted, now=NOW)
    return reading.state, reading.reason


def test_gate__every_condition_holds__passes() -> None:
    assert _read(FULL, _progress(100, 1, minutes=61)) == ("passed", "every condition holds")


@pytest.mark.parametrize("progress,alarms,promoted,reason", [
    (_progress(19, 0, minutes=61), None, True, "1 more succeeded needed"),
    (_progress(100, 0, minutes=25), None, True, "soak 35 min left"),
    (_progress(100, 0, minutes=61), None, False, "approval"),
    (_progress(100, 0, minutes=61), {"crash-rate": "INSUFFICIENT_DATA"}, True, None),
    (_progress(100, 0, minutes=61), {}, True, "alarm crash-rate not found in CloudWatch"),
], ids=["successes", "soak", "approval", "insufficient-data-holds", "alarm-missing"])
def test_gate__one_condition_short__waits_and_says_which(
        progress: Progress, alarms: dict[str, str] | None, promoted: bool,
        reason: str | None) -> None:
    state, why = _read(FULL, progress, alarms, promoted)
    assert (state, why) == (("passed", "every condition holds") if reason is None
                            else ("waiting", reason))


def test_gate__failures_over_the_bound_before_min_executed__wait_not_fail() -> None:
    gate = Gate(max_failed_percent=2, min_executed=10)
    assert _read(gate, _progress(5, 4)) == (
        "waiting", "1 more executed before failures are judged")
    assert _read(gate, _progress(6, 4)) == ("failed", "40.0% failed > 2%")


def test_gate__failure_share_counts_rejected_and_timed_out_of_every_executed() -> None:
    gate = Gate(max_failed_percent=10, min_executed=10)
    # executed 20 (10 succeeded + 1 failed + 1 rejected + 1 timed out + 4 removed + 3
    # canceled), failures 3: 15% > 10%
    progress = _progress(10, 1, rejected=1, timedOut=1, removed=4, canceled=3)
    assert progress.executed == 20
    assert _read(gate, progress) == ("failed", "15.0% failed > 10%")
    assert _read(Gate(max_failed_percent=15, min_executed=10), progress)[0] == "passed"


def test_gate__an_alarm_in_alarm__fails_even_while_other_conditions_wait() -> None:
    state, why = _read(FULL, _progress(0, 0), {"crash-rate": "ALARM"}, promoted=False)
    assert (state, why) == ("failed", "alarm crash-rate is ALARM")


@pytest.mark.parametrize("status", ["CANCELED", "DELETION_IN_PROGRESS"])
def test_gate__a_canceled_or_deleted_job__fails(status: str) -> None:
    assert _read(FULL, _progress(100, 0, status=status, minutes=90)) == (
        "failed", f"its job is {status}")


def test_gate__none_named__waits_for_the_job_to_complete() -> None:
    assert _read(Gate(), _progress(5, 0)) == (
        "waiting", "its job is IN_PROGRESS, not yet COMPLETED")
    assert _read(Gate(), _progress(5, 0, status="COMPLETED"))[0] == "passed"


def test_gate__not_started__soak_waits() -> None:
    progress = Progress("SCHEDULED", {}, None)
    assert _read(Gate(soak_minutes=5), progress) == (
        "waiting", "soak: its job has not started")


def test_gate__of_manifest_mapping__reads_every_key() -> None:
    assert Gate.of({"minSucceeded": 20, "maxFailedPercent": 2, "minExecuted": 10,
                    "soakMinutes": 60, "alarms": ["crash-rate"], "approval": True}) == FULL
    assert Gate.of(None).empty


def test_reading__as_dict__names_each_condition_with_want_have_holds() -> None:
    reading = read_gate(Gate(min_succeeded=20), _progress(5), {}, promoted=False, now=NOW)
    assert reading.as_dict() == {
        "state": "waiting", "reason": "15 more succeeded needed",
        "condition": {"minSucceeded": {"want": ">= 20", "have": "5", "holds": False}}}


counts = st.integers(min_value=0, max_value=500)
gates = st.builds(Gate, st.none() | st.integers(0, 300), st.none() | st.floats(0, 100),
                  st.none() | st.integers(1, 100), st.none() | st.integers(0, 600),
                  st.just(("a",)) | st.just(()), st.booleans())


@given(gates, counts, counts, counts, st.floats(0, 1000), st.sampled_from(["OK", "ALARM"]),
       st.booleans(), counts)
def test_gate__properties(gate: Gate, succeeded: int, failed: int, removed: int,
                          minutes: float, alarm: str, promoted: bool, more: int) -> None:
    progress = _progress(succeeded, failed, removed=removed, minutes=minutes)
    reading = read_gate(gate, progress, {"a": alarm}, promoted=promoted, now=NOW)
    # passed means every named condition holds, and failed that one of them fails
    holding = all(c.holds for c in reading.conditions)
    failing = any(c.fails for c in reading.conditions)
    assert reading.state == ("failed" if failing else "passed" if holding else "waiting")
    if "a" in gate.alarms and alarm == "ALARM":
        assert reading.state == "failed"
    # more successes never take a gate back from passed, nor make a passed one fail
    later = read_gate(gate, _progress(succeeded + more, failed, removed=removed,
                                      minutes=minutes), {"a": alarm}, promoted=promoted,
                      now=NOW)
    if reading.state == "passed":
        assert later.state == "passed"
    # more time never takes a gate back from passed
    longer = read_gate(gate, progress, {"a": alarm}, promoted=promoted,
                       now=NOW + timedelta(minutes=more))
    if reading.state == "passed":
        assert longer.state == "passed"
