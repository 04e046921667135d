"""The thing group additions (engine.sandbox.moto_groups) answer as AWS IoT does, by
botocore's model of each operation (the checks of test_moto_jobs)."""

from __future__ import annotations

from typing import Any

from engine.sandbox import moto_groups

from ..groups import fill_group, index_things
from .test_moto_jobs import call, error_of


def test_get_statistics__indexing_off__resource_not_found(iot: Any) -> None:
    fill_group("fleet", 3)
    assert error_of(iot, "GetStatistics",
                    queryString="thingGroupNames:fleet") == "ResourceNotFoundException"


def test_get_statistics__group_query__counts_its_things(iot: Any) -> None:
    fill_group("fleet", 7)
    fill_group("other", 2)
    index_things()
    answer = call(iot, "GetStatistics", indexName="AWS_Things",
                  queryString="thingGroupNames:fleet")
    assert answer == {"statistics": {"count": 7}}
    assert call(iot, "GetStatistics", queryString="thingGroupNames:none")["statistics"] == {
        "count": 0}
    assert call(iot, "GetStatistics", queryString="*")["statistics"]["count"] == 9


def test_list_things_in_thing_group__pages_of_max_results(iot: Any) -> None:
    fill_group("fleet", 7)
    first = call(iot, "ListThingsInThingGroup", thingGroupName="fleet", maxResults=5)
    assert len(first["things"]) == 5 and first["nextToken"]
    rest = call(iot, "ListThingsInThingGroup", thingGroupName="fleet", maxResults=5,
                nextToken=first["nextToken"])
    assert len(rest["things"]) == 2 and "nextToken" not in rest
    assert set(first["things"]) | set(rest["things"]) == {f"fleet-t{i:05d}" for i in range(1, 8)}


def test_list_things_in_thing_group__recursive__child_groups_too(iot: Any) -> None:
    fill_group("fleet", 3)
    fill_group("fleet-eu", 4, parent="fleet")
    own = call(iot, "ListThingsInThingGroup", thingGroupName="fleet")
    assert len(own["things"]) == 3
    every = call(iot, "ListThingsInThingGroup", thingGroupName="fleet", recursive=True,
                 maxResults=250)
    assert len(every["things"]) == 7


def test_list_things_in_thing_group__unknown_group__not_found(iot: Any) -> None:
    assert error_of(iot, "ListThingsInThingGroup",
                    thingGroupName="nowhere") == "ResourceNotFoundException"


def test_sized_groups__a_group_moto_does_not_hold_has_the_size(iot: Any) -> None:
    with moto_groups.sized_groups(40):
        listed = call(iot, "ListThingsInThingGroup", thingGroupName="gw", recursive=True,
                      maxResults=250)
        counted = call(iot, "GetStatistics", queryString="thingGroupNames:gw")
    assert len(listed["things"]) == 40 and counted["statistics"]["count"] == 40
    assert error_of(iot, "ListThingsInThingGroup",
                    thingGroupName="gw") == "ResourceNotFoundException"


def test_create_dynamic_thing_group__members_are_the_things_its_query_matches(iot: Any) -> None:
    fill_group("fleet", 3)
    index_things()
    made = call(iot, "CreateDynamicThingGroup", thingGroupName="first-two",
                queryString="thingName:fleet-t00001 OR thingName:fleet-t00002")
    assert made["thingGroupName"] == "first-two" and made["queryString"]
    listed = call(iot, "ListThingsInThingGroup", thingGroupName="first-two")
    assert sorted(listed["things"]) == ["fleet-t00001", "fleet-t00002"]
    counted = call(iot, "GetStatistics", queryString="thingGroupNames:first-two")
    assert counted["statistics"]["count"] == 2


def test_create_job__on_a_group_moto_holds__counts_its_things(iot: Any) -> None:
    fill_group("fleet", 7)
    fill_group("fleet-eu", 2, parent="fleet")
    call(iot, "CreateJob", jobId="j1", document="{}",
         targets=["arn:aws:iot:eu-west-1:123456789012:thinggroup/fleet",
                  "arn:aws:iot:eu-west-1:123456789012:thinggroup/elsewhere"])
    details = call(iot, "DescribeJob", jobId="j1")["job"]["jobProcessDetails"]
    assert details["numberOfQueuedThings"] == 9 + 40  # its things, and a sandbox group's
