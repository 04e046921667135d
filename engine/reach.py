"""Reach: how many things each targeted thing group holds, read once a run (DESIGN.md
section 11), through ``IotApi`` (paced and counted like every read).

A group is counted by Fleet Indexing where the account has it: one ``GetStatistics`` a group
(``thingGroupNames:NAME`` on the AWS_Things index). Where indexing is off, not ready, or
not allowed to the role, the first refusal switches the region to ``ListThingsInThingGroup``
(recursive, 250 a page, up to ``LIST_CAP`` things, beyond which the count is "at least"),
and a note says why. A group that cannot be listed either is unknown, with a note. Things
count 1 and are never read. A group appears once in the set asked for, so however many
rollouts target it, it is read once.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from engine.aws import AwsError, IotApi, NotFound
from engine.review.figures import INDEXING, LISTING, NOT_READ, UNKNOWN, TargetCount

# ListThingsInThingGroup reads 250 things a call: 10,000 things cost 40 calls a group.
LIST_CAP = 10_000


@dataclass
class Counted:
    """The counts read, by thing group ARN, and what the reader has to say."""

    counts: dict[str, TargetCount] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def group_name(arn: str) -> str:
    return arn.split(":thinggroup/", 1)[1]


def not_read(wanted: Mapping[str, set[str]]) -> Counted:
    """``--no-reach``: every group's count is left unread."""
    return Counted({arn: TargetCount(None, False, NOT_READ)
                    for arns in wanted.values() for arn in arns})


def read_reach(apis: Mapping[str, IotApi], wanted: Mapping[str, set[str]], *,
               cap: int = LIST_CAP) -> Counted:
    """The size of every thing group in ``wanted`` (place -> group ARNs; a place is
    "ACCOUNT:REGION", and ``apis`` has its client), places at once, each group once."""
    places = sorted(r for r, arns in wanted.items() if arns and r in apis)
    out = Counted()
    if not places:
        return out
    with ThreadPoolExecutor(max_workers=len(places)) as pool:
        for counted in pool.map(lambda r: _read_region(apis[r], r.rpartition(":")[2],
                                                       sorted(wanted[r]), cap), places):
            out.counts.update(counted.counts)
            out.notes.extend(counted.notes)
    return out


def _read_region(api: IotApi, region: str, arns: list[str], cap: int) -> Counted:
    out = Counted()
    mode = INDEXING
    for arn in arns:
        name = group_name(arn)
        if mode == INDEXING:
            try:
                out.counts[arn] = TargetCount(api.thing_count(f"thingGroupNames:{name}"),
                                              True, INDEXING)
                continue
            except AwsError as exc:
                mode = LISTING
                out.notes.append(f"reach in {region}: Fleet Indexing did not answer "
                                 f"({exc.aws_code}), so thing groups are counted with "
                                 "ListThingsInThingGroup instead (turn on thing indexing, "
                                 "and allow iot:GetStatistics, to count each group in one call)")
        if mode == LISTING:
            try:
                count, whole = api.things_in_group(name, cap=cap)
                out.counts[arn] = TargetCount(count, whole, LISTING)
                continue
            except NotFound:
                out.counts[arn] = TargetCount(None, False, UNKNOWN)
                out.notes.append(f"reach: thing group {name} does not exist in {region}, so "
                                 "its reach is unknown")
                continue
            except AwsError as exc:
                mode = UNKNOWN
                out.notes.append(f"reach in {region}: thing groups cannot be listed either "
                                 f"({exc.aws_code}), so the reach of their jobs is unknown")
        out.counts[arn] = TargetCount(None, False, UNKNOWN)
    return out
