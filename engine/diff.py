"""Explain a difference already found: field-level changes with their paths.

deepdiff is imported here only, and only when there is something to explain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

_ROOT_PART = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


@dataclass(frozen=True)
class FieldChange:
    """One changed value: ``abortConfig.criteriaList[0].thresholdPercentage: 10 -> 5``."""

    path: str
    before: Any
    after: Any
    # The _defaults.yaml (repo-relative) the new value comes from; None: the manifest's own.
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "before": self.before, "after": self.after}
        if self.source is not None:
            out["from"] = self.source
        return out

    @property
    def from_note(self) -> str:
        """What a diff line adds after it: ``  (from rollouts/x/_defaults.yaml)``, or ""."""
        return f"  (from {self.source})" if self.source is not None else ""


def _dotted(deepdiff_path: str) -> str:
    out = ""
    for key, index in _ROOT_PART.findall(deepdiff_path):
        if index:
            out += f"[{index}]"
        else:
            out += f".{key}" if out else key
    return out


def explain(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every leaf that differs between two normalised dicts; absent values are None."""
    if before == after:
        return []
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    changes: list[FieldChange] = []
    for items in tree.values():
        for level in items:
            old = None if isinstance(level.t1, NotPresent) else level.t1
            new = None if isinstance(level.t2, NotPresent) else level.t2
            changes.append(FieldChange(_dotted(level.path()), old, new))
    return sorted(changes, key=lambda c: c.path)


# A manifest key whose value the request carries under another name.
_REQUEST_NAME = {"documentFile": "document"}


def attributed(changes: Iterable[FieldChange], origins: Mapping[str, str]
               ) -> list[FieldChange]:
    """``changes`` with the defaults file each changed path (or a parent of it) came from."""
    changes = list(changes)
    if not origins:
        return changes
    sources = {_REQUEST_NAME.get(path, path): file for path, file in origins.items()}
    out = []
    for change in changes:
        found = _source_of(change.path, sources)
        out.append(replace(change, source=found) if found is not None else change)
    return out


def _source_of(path: str, sources: Mapping[str, str]) -> str | None:
    """The source of ``path`` or of its nearest parent (``a.b[0].c``: ``a.b[0]``, ``a.b``,
    ``a``) that has one."""
    while path:
        found = sources.get(path)
        if found is not None:
            return found
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
