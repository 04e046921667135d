"""Reach and the review figures of a plan: the reader (engine.reach) against a simulated
account, and the pure steps (engine.review.figures, engine.review.attach) by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from engine.aws import Connection, IotApi
from engine.facts import TAG_MUTABLE_HASH
from engine.reach import group_name, not_read, read_reach
from engine.review.attach import review_of, reviewed, wanted
from engine.review.figures import (
    INDEXING,
    LISTING,
    NOT_READ,
    UNKNOWN,
    Reach,
    Review,
    TargetCount,
    figures,
    wave_key,
)

from .conftest import ACCOUNT, REGION
from .factories import PROJECT, desired_jobs, job_of, region_of
from .groups import fill_group, index_things

GROUP = f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/fleet"
THING = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/dev-1"
NOW = datetime(2026, 3, 1, 12, 0)


def group_arn(name: str) -> str:
    return f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/{name}"


@pytest.fixture
def api(aws: None) -> IotApi:
    return IotApi(Connection(region=REGION, rate=0))


# --- the reader


def test_read_reach__indexing_on__one_get_statistics_a_group(api: IotApi) -> None:
    fill_group("fleet", 300)
    fill_group("canary", 5)
    index_things()
    counted = read_reach({REGION: api}, {REGION: {GROUP, group_arn("canary")}})
    assert counted.counts == {GROUP: TargetCount(300, True, INDEXING),
                              group_arn("canary"): TargetCount(5, True, INDEXING)}
    assert dict(api.calls) == {"GetStatistics": 2} and counted.notes == []


def test_read_reach__indexing_off__listed_instead_with_a_note(api: IotApi) -> None:
    fill_group("fleet", 300)
    fill_group("canary", 5)
    counted = read_reach({REGION: api}, {REGION: {GROUP, group_arn("canary")}})
    assert counted.counts[GROUP] == TargetCount(300, True, LISTING)
    assert counted.counts[group_arn("canary")] == TargetCount(5, True, LISTING)
    # One refusal switches the region: the second group is not asked of the index.
    assert api.calls["GetStatistics"] == 1
    assert api.calls["ListThingsInThingGroup"] == 3  # 250 + 50, then 5
    (note,) = counted.notes
    assert "ResourceNotFoundException" in note and "ListThingsInThingGroup" in note


def test_read_reach__more_than_the_cap__at_least_what_was_read(api: IotApi) -> None:
    fill_group("fleet", 801)
    counted = read_reach({REGION: api}, {REGION: {GROUP}}, cap=500)
    assert counted.counts[GROUP] == TargetCount(500, False, LISTING)
    assert api.calls["ListThingsInThingGroup"] == 2  # stops at the cap, not at the end
    assert Reach.of([GROUP], counted.counts).text == "at least 500 devices"


def test_read_reach__recursive__child_groups_counted(api: IotApi) -> None:
    fill_group("fleet", 10)
    fill_group("fleet-eu", 4, parent="fleet")
    counted = read_reach({REGION: api}, {REGION: {GROUP}})
    assert counted.counts[GROUP] == TargetCount(14, True, LISTING)


def test_read_reach__unknown_group__unknown_with_a_note(api: IotApi) -> None:
    counted = read_reach({REGION: api}, {REGION: {group_arn("nowhere")}})
    assert counted.counts[group_arn("nowhere")] == TargetCount(None, False, UNKNOWN)
    assert any("nowhere does not exist" in n for n in counted.notes)


def _stubbed(answers: list[tuple[str, Any]]) -> tuple[IotApi, Stubber]:
    import boto3

    client = boto3.client("iot", region_name=REGION, aws_access_key_id="x",
                          aws_secret_access_key="x")
    stub = Stubber(client)
    for operation, answer in answers:
        if isinstance(answer, str):
            stub.add_client_error(operation, service_error_code=answer, http_status_code=403)
        else:
            stub.add_response(operation, answer)
    stub.activate()
    return IotApi(Connection(region=REGION, rate=0), client=client, sts=object()), stub


def test_read_reach__indexing_access_denied__listed_with_a_note() -> None:
    api, stub = _stubbed([("get_statistics", "AccessDeniedException"),
                          ("list_things_in_thing_group", {"things": ["a", "b", "c"]})])
    counted = read_reach({REGION: api}, {REGION: {GROUP}})
    stub.assert_no_pending_responses()
    assert counted.counts[GROUP] == TargetCount(3, True, LISTING)
    assert "AccessDeniedException" in counted.notes[0]


def test_read_reach__both_refused__unknown_and_no_more_calls() -> None:
    api, stub = _stubbed([("get_statistics", "AccessDeniedException"),
                          ("list_things_in_thing_group", "AccessDeniedException")])
    counted = read_reach({REGION: api}, {REGION: {GROUP, group_arn("other")}})
    stub.assert_no_pending_responses()  # the second group is not asked at all
    assert {c.source for c in counted.counts.values()} == {UNKNOWN}
    assert len(counted.notes) == 2 and "cannot be listed either" in counted.notes[1]


def test_not_read__every_group_not_read() -> None:
    counted = not_read({REGION: {GROUP}})
    assert counted.counts[GROUP] == TargetCount(None, False, NOT_READ)
    assert Reach.of([GROUP, THING], counted.counts).text == "reach not read"
    assert group_name(GROUP) == "fleet"


# --- the figures


def test_reach__a_group_of_300_and_a_thing__301_exact() -> None:
    reach = Reach.of([GROUP, THING], {GROUP: TargetCount(300, True, INDEXING)})
    assert (reach.count, reach.exact, reach.source) == (301, True, INDEXING)
    assert reach.text == "301 devices"


def test_reach__things_only__no_read_needed() -> None:
    reach = Reach.of([THING], {})
    assert reach.as_json() == {"count": 1, "exact": True, "source": "things",
                               "continuous": False}
    assert reach.text == "1 device"


def test_reach__continuous__now_and_every_thing_that_joins() -> None:
    f = figures({"targets": [GROUP], "targetSelection": "CONTINUOUS"},
                {GROUP: TargetCount(40, True, INDEXING)}, start=NOW)
    assert f.reach.text == "40 devices now, and every thing that joins"
    assert f.as_json()["reach"]["continuous"] is True


def test_figures__rate_and_abort__the_short_line() -> None:
    request = {"targets": [GROUP, THING], "jobExecutionsRolloutConfig": {"maximumPerMinute": 150},
               "abortConfig": {"criteriaList": [
                   {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 5,
                    "minNumberOfExecutedThings": 10}]}}
    f = figures(request, {GROUP: TargetCount(300, True, INDEXING)}, start=NOW)
    assert f.short == "reaches 301 devices in about 2 min; aborts after 16 failures"
    assert f.as_json() == {
        "reach": {"count": 301, "exact": True, "source": INDEXING, "continuous": False},
        "minutesToNotifyAll": 2.0, "notifiedBeforeEnd": None,
        "abort": [{"failureType": "FAILED", "afterFailures": 16, "ofExecuted": 301}],
        "inProgressTimeoutInMinutes": None}


def test_figures__end_without_start_time__counted_from_the_plan_clock() -> None:
    request = {"targets": [GROUP], "jobExecutionsRolloutConfig": {"maximumPerMinute": 10},
               "schedulingConfig": {"endTime": "2026-03-01T12:30"}}
    f = figures(request, {GROUP: TargetCount(1000, True, INDEXING)}, start=NOW)
    assert f.timeline is not None and f.timeline.notified_before_end == 300
    assert f.as_json()["minutesToNotifyAll"] is None
    assert f.short == ("reaches 1,000 devices; reaches 300 of 1,000 before it ends; "
                       "no abort criteria")


def test_figures__unknown_reach__no_time_no_abort() -> None:
    f = figures({"targets": [GROUP]}, {GROUP: TargetCount(None, False, UNKNOWN)}, start=NOW)
    assert f.timeline is None and f.abort == ()
    assert f.short == "reach unknown"
    assert f.as_json()["minutesToNotifyAll"] is None


def test_review__update_alters_rate__before_and_after() -> None:
    counts = {GROUP: TargetCount(12_400, True, INDEXING)}
    before = figures({"targets": [GROUP], "jobExecutionsRolloutConfig": {"maximumPerMinute": 65}},
                     counts, start=NOW)
    after = figures({"targets": [GROUP], "jobExecutionsRolloutConfig": {"maximumPerMinute": 276}},
                    counts, start=NOW)
    review = Review(after, before)
    assert review.changed
    assert review.cells() == ("12,400 devices", "3 h 11 min -> 45 min", "no criteria")
    assert review.short == "reaches 12,400 devices in about 3 h 11 min -> about 45 min; " \
                           "no abort criteria"
    assert set(review.as_json()) == {"before", "after"}


# --- the plan's figures, pure


FW = """\
targets: [thinggroup/fleet, thing/dev-1]
document: {op: fw}
jobExecutionsRolloutConfig: {maximumPerMinute: 100}
abortConfig: {criteriaList: [{failureType: ALL, action: CANCEL, thresholdPercentage: 10,
  minNumberOfExecutedThings: 10}]}
"""


def test_reviewed__create__figures_from_its_request(tmp_path: Path) -> None:
    desired = desired_jobs(tmp_path, {"fw.yaml": FW})
    region = region_of(desired)
    from engine.plan import build_plan

    plan = build_plan(PROJECT, [region], None, now=NOW)
    assert wanted(plan, [region]) == {f"{ACCOUNT}:{REGION}": {GROUP}}
    plan = reviewed(plan, [region], {GROUP: TargetCount(300, True, INDEXING)}, now=NOW)
    (action,) = plan.actions
    review = review_of(plan, action)
    assert review is not None and review.before is None
    assert review.after.short == "reaches 301 devices in about 3 min; aborts after 31 failures"


def test_reviewed__update_of_the_rate__before_from_aws_after_from_git(tmp_path: Path) -> None:
    desired = desired_jobs(tmp_path, {"fw.yaml": FW})
    (d,) = desired
    running = job_of(d, jobExecutionsRolloutConfig={"maximumPerMinute": 10},
                     tags={**d.tags, **d.creation_tags, TAG_MUTABLE_HASH: "old"})
    region = region_of(desired, running)
    from engine.plan import build_plan

    plan = build_plan(PROJECT, [region], None, now=NOW)
    (action,) = plan.actions
    assert action.verb == "update"
    plan = reviewed(plan, [region], {GROUP: TargetCount(300, True, INDEXING)}, now=NOW)
    review = review_of(plan, action)
    assert review is not None and review.before is not None and review.changed
    assert review.cells()[1] == "30 min -> 3 min"


def test_reviewed__unchanged_plan__reads_nothing(tmp_path: Path) -> None:
    desired = desired_jobs(tmp_path, {"fw.yaml": FW})
    (d,) = desired
    region = region_of(desired, job_of(d))
    from engine.plan import build_plan

    plan = build_plan(PROJECT, [region], None, now=NOW)
    assert plan.actions == () and wanted(plan, [region]) == {}


WAVED = """\
document: {op: fw}
waves:
  - name: canary
    targets: [thinggroup/canary]
    jobExecutionsRolloutConfig: {maximumPerMinute: 10}
  - name: all
    targets: [thinggroup/fleet]
"""


def test_reviewed__waves__each_wave_has_figures(tmp_path: Path) -> None:
    desired = desired_jobs(tmp_path, {"gw.yaml": WAVED})
    region = region_of(desired)
    from engine.plan import build_plan

    plan = build_plan(PROJECT, [region], None, now=NOW)
    assert wanted(plan, [region]) == {f"{ACCOUNT}:{REGION}": {GROUP, group_arn("canary")}}
    plan = reviewed(plan, [region], {GROUP: TargetCount(5000, True, INDEXING),
                                     group_arn("canary"): TargetCount(20, True, INDEXING)},
                    now=NOW)
    shown = [plan.reviews[wave_key(s.desired.region, s.desired.job_id)].after.short
             for s in plan.waves]
    assert shown == ["reaches 20 devices in about 2 min; no abort criteria",
                     "reaches 5,000 devices in about 5 min; no abort criteria"]


def test_figures__in_progress_timeout__in_the_json() -> None:
    f = figures({"targets": [THING], "timeoutConfig": {"inProgressTimeoutInMinutes": 60}},
                {}, start=NOW)
    assert f.as_json()["inProgressTimeoutInMinutes"] == 60
    assert figures({"targets": [THING]}, {}, start=NOW).timeout_minutes is None


def test_figures__reach_a_floor__time_and_abort_floors_too() -> None:
    request = {"targets": [GROUP], "jobExecutionsRolloutConfig": {"maximumPerMinute": 100},
               "abortConfig": {"criteriaList": [
                   {"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 1,
                    "minNumberOfExecutedThings": 100}]}}
    f = figures(request, {GROUP: TargetCount(10_000, False, LISTING)}, start=NOW)
    assert f.short == ("reaches at least 10,000 devices in at least 1 h 40 min; "
                       "aborts after at least 100 failures")


def test_figures__empty_group__nothing_to_notify() -> None:
    f = figures({"targets": [GROUP]}, {GROUP: TargetCount(0, True, INDEXING)}, start=NOW)
    assert f.short == "reaches 0 devices: nothing to notify"
    assert f.as_json()["minutesToNotifyAll"] == 0.0


def test_figures__unreadable_rollout_config__abort_figures_kept_and_why() -> None:
    request = {"targets": [THING], "schedulingConfig": {"endTime": "2026-03-02T00:00"},
               "abortConfig": {"criteriaList": [
                   {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 50,
                    "minNumberOfExecutedThings": 1}]}}
    f = figures(request, {}, start=None)  # an end, and no start to count from
    assert f.timeline is None and f.problem and "start" in f.problem
    assert f.abort_text == "aborts after 1 failure"
    assert f.short.startswith("reaches 1 device (")
