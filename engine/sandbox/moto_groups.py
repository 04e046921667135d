"""Thing group sizes, which moto 5.2 cannot tell (the review figures' reach, DESIGN.md
section 11); installed with the IoT Jobs additions by ``moto_jobs.install()``.

As on AWS:

- GetStatistics (moto lacks it) counts the things of the AWS_Things index that match
  ``queryString``: ``thingGroupNames:NAME`` counts the group's own things, any other query
  goes to moto's own matcher. Without thing indexing (``thingIndexingMode`` OFF, moto's
  default as a new account's), the index does not exist: ResourceNotFoundException.
- ListThingsInThingGroup pages by ``maxResults`` (1 to 250, default 25) and ``nextToken``,
  and with ``recursive`` lists the things of every child group too (moto ignores all three).
- CreateDynamicThingGroup (moto lacks it) makes a group whose members are the things that
  match its ``queryString`` at the moment they are counted.

A job counts the things of a group moto holds (``group_size``, its child groups' too);
every other group holds ``DEVICES_PER_GROUP`` devices, as the sandbox's always have.

The sandbox's groups: inside ``sized_groups(n)`` a thing group moto does not hold has ``n``
things (named ``NAME-0001``, ...) and thing indexing answers, so the figures of a plan in
the sandbox count the same ``DEVICES_PER_GROUP`` devices as its jobs do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.responses import ActionResult
from moto.iot.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.iot.models import FakeThingGroup, IoTBackend
from moto.iot.responses import IoTResponse

THINGS_INDEX = "AWS_Things"
_GROUP_QUERY = re.compile(r"thingGroupNames:([a-zA-Z0-9:_-]+)")
_sized: list[int] = []  # the size of a group moto does not hold, inside sized_groups()


@contextmanager
def sized_groups(size: int) -> Iterator[None]:
    """Inside: every thing group moto does not hold has ``size`` things (the sandbox)."""
    release = hold_sizes(size)
    try:
        yield
    finally:
        release()


def hold_sizes(size: int) -> Callable[[], None]:
    """From now on, as in ``sized_groups``, until the function returned is called (a
    served sandbox, which outlives any ``with``)."""
    _sized.append(size)
    return lambda: _sized.remove(size) if size in _sized else None


def _group(backend: IoTBackend, name: str) -> FakeThingGroup | None:
    return next((g for g in backend.thing_groups.values() if g.thing_group_name == name),
                None)


def members(backend: IoTBackend, name: str, *, recursive: bool) -> list[str]:
    """The names of a group's things (and its child groups' with ``recursive``), in order;
    ResourceNotFoundException for a group that does not exist."""
    group = _group(backend, name)
    if group is None:
        if _sized:
            return [f"{name}-{i:04d}" for i in range(1, _sized[-1] + 1)]
        raise ResourceNotFoundException(f"Thing group {name} does not exist")
    query = getattr(group, "_rollouts_query", None)
    if query is not None:
        names = [t.thing_name for t in backend.things.values() if t.matches(query)]
    else:
        names = [t.thing_name for t in group.things.values()]
    if recursive:
        for child in backend.thing_groups.values():
            if child.parent_group_name == name:
                names += members(backend, child.thing_group_name, recursive=True)
    return list(dict.fromkeys(names))  # a thing in two of the groups is listed once


def group_size(backend: IoTBackend, name: str) -> int:
    """The things a job on the group reaches: its own and its child groups'; a group moto
    does not hold has the sandbox's size (``DEVICES_PER_GROUP``), wherever it is asked."""
    from engine.sandbox.moto_jobs import DEVICES_PER_GROUP

    if _group(backend, name) is None:
        return _sized[-1] if _sized else DEVICES_PER_GROUP
    return len(members(backend, name, recursive=True))


def _get_statistics(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    index = self._get_param("indexName") or THINGS_INDEX
    query = str(self._get_param("queryString") or "")
    indexing = backend.indexing_configuration.configuration.thingIndexingConfiguration
    if index != THINGS_INDEX or (indexing.thingIndexingMode == "OFF" and not _sized):
        raise ResourceNotFoundException(f"Index {index} does not exist")
    if not query.strip():
        raise InvalidRequestException("queryString must not be empty")
    one_group = _GROUP_QUERY.fullmatch(query.strip())
    if one_group is not None:
        try:
            count = len(members(backend, one_group.group(1), recursive=False))
        except ResourceNotFoundException:
            count = 0  # a search for a group that does not exist finds nothing
    else:
        count = sum(1 for t in backend.things.values() if t.matches(query))
    return ActionResult({"statistics": {"count": count}})


def _list_things_in_thing_group(self: IoTResponse) -> ActionResult:
    name = self._get_param("thingGroupName")
    size = self._get_int_param("maxResults") or 25
    if not 1 <= size <= 250:
        raise InvalidRequestException("maxResults must be 1 to 250")
    recursive = str(self._get_param("recursive", "false")).lower() == "true"
    things = members(self.iot_backend, name, recursive=recursive)
    token = self._get_param("nextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = things[start:start + size]
    answer: dict[str, Any] = {"things": page}
    if start + size < len(things):
        answer["nextToken"] = str(start + size)
    return ActionResult(answer)


def _create_dynamic_thing_group(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    name = self._get_param("thingGroupName")
    query = self._get_param("queryString")
    if not query:
        raise InvalidRequestException("queryString is required")
    group_name, group_arn, group_id = backend.create_thing_group(
        name, None, self._get_param("thingGroupProperties") or {})  # type: ignore[arg-type]
    group = _group(backend, name)
    group._rollouts_query = query  # type: ignore[union-attr]
    return ActionResult({"thingGroupName": group_name, "thingGroupArn": group_arn,
                         "thingGroupId": group_id, "indexName": THINGS_INDEX,
                         "queryString": query, "queryVersion": "2017-09-30"})


HANDLERS = {
    "get_statistics": _get_statistics,
    "list_things_in_thing_group": _list_things_in_thing_group,
    "create_dynamic_thing_group": _create_dynamic_thing_group,
}
