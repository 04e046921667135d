"""Explain a difference already found: field-level changes with their paths.

deepdiff is imported here only, and only when there is something to explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ROOT_PART = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


@dataclass(frozen=True)
class FieldChange:
    """One changed value: ``abortConfig.criteriaList[0].thresholdPercentage: 10 -> 5``."""

    path: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


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
