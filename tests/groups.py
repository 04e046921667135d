"""Thing groups of a given size in a simulated account, made straight in moto's backend (a
group of 10,001 things in a blink, where 20,002 calls would take a minute)."""

from __future__ import annotations

from moto.iot.models import iot_backends

from .conftest import ACCOUNT, REGION


def fill_group(name: str, size: int, *, parent: str | None = None,
               region: str = REGION) -> None:
    """A thing group ``name`` (under ``parent``) holding ``size`` new things NAME-t00001..."""
    backend = iot_backends[ACCOUNT][region]
    backend.create_thing_group(name, parent, {})  # type: ignore[arg-type]
    group = next(g for g in backend.thing_groups.values() if g.thing_group_name == name)
    for i in range(1, size + 1):
        thing = backend.create_thing(f"{name}-t{i:05d}", None, None)  # type: ignore[arg-type]
        group.things[thing.arn] = thing


def index_things(region: str = REGION) -> None:
    """Turn on Fleet Indexing's thing index (registry data), as a console user would."""
    iot_backends[ACCOUNT][region].update_indexing_configuration(
        {"thingIndexingMode": "REGISTRY"}, {})
