"""Waves of a manifest: each wave's own job as data, and the rules between waves.

A wave's job is the rollout's fields with the wave's own merged in (mappings merge, lists
and scalars replace, as ``_defaults.yaml`` do); ``wave_data`` builds it, so that the
rules of a single job check every wave as it will be sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.facts import JOB_ID_MAX
from engine.schema.document import Finding
from engine.schema.models import WAVE_KEYS, Manifest

# Keys of a waved manifest that belong to the rollout, not to any one wave's job.
ROLLOUT_KEYS = ("waves", "promoted", "onFailure")
# <name>-<wave>-<8 hex>, and -<life> from a second life on (lives up to 99 kept in bound).
_ID_TAIL = 1 + 1 + 8 + 3


def merged(base: Any, over: Any) -> Any:
    """``over`` on ``base``: mappings merge, everything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merged(base[key], value) if key in base else value
        return out
    return over


def wave_data(data: dict[str, Any], index: int) -> dict[str, Any]:
    """The manifest data of wave ``index``'s job: the rollout's fields and the wave's."""
    base = {k: v for k, v in data.items() if k not in ROLLOUT_KEYS}
    wave = {k: v for k, v in data["waves"][index].items() if k not in WAVE_KEYS}
    job: dict[str, Any] = merged(base, wave)
    return job


def check(m: Manifest) -> list[Finding]:
    """The rules of ``waves``, ``promoted`` and ``onFailure``."""
    if not m.waves:
        found = [Finding((key,), f"{key} works only with waves:", at_key=True)
                 for key in ("promoted", "onFailure") if getattr(m, key) is not None]
        if m.targets is None:
            found.append(Finding(("targets",), "missing required key targets (or give "
                                               "waves:, each with its targets)"))
        return found
    return list(_waves(m))


def _waves(m: Manifest) -> Iterable[Finding]:
    waves = m.waves or []
    if m.targets is not None:
        yield Finding(("targets",), "with waves, each wave names its own targets: move these "
                      "to the waves (targets a _defaults.yaml gives are dropped by "
                      "targets: null in the manifest)", at_key=True)
    if m.jobId is not None:
        yield Finding(("jobId",), "a rollout in waves has a job per wave, each with a jobId "
                      "of its own: remove jobId", at_key=True)
    if m.schedulingConfig is not None:
        yield Finding(("schedulingConfig",), "waves are created when the gate before them "
                      "holds, so a fixed schedule cannot hold for them: remove "
                      "schedulingConfig (or roll out without waves)", at_key=True)
    names: dict[str, int] = {}
    name = m.name or ""
    for index, wave in enumerate(waves):
        if wave.name in names:
            yield Finding(("waves", index, "name"), f"wave {wave.name} is already "
                          f"waves[{names[wave.name]}]; wave names are unique in a rollout")
        names.setdefault(wave.name, index)
        if len(name) + len(wave.name) + _ID_TAIL > JOB_ID_MAX:
            yield Finding(("waves", index, "name"), f"{name}-{wave.name}-<8 hex> would pass "
                          f"the API's {JOB_ID_MAX} characters for a jobId: shorten "
                          "the rollout's or the wave's name")
        gate = wave.gate
        last = index == len(waves) - 1
        if wave.schedulingConfig is not None:
            yield Finding(("waves", index, "schedulingConfig"), "a wave is created when the "
                          "gate before it holds, so a fixed schedule cannot hold for it: "
                          "remove schedulingConfig", at_key=True)
        if gate is None:
            continue
        if gate.approval and last:
            yield Finding(("waves", index, "gate", "approval"), "approval holds back the next "
                          "wave, and this is the last one: remove it", at_key=True)
        elif last:
            yield Finding(("waves", index, "gate"), "the last wave's gate promotes nothing",
                          warning=True, at_key=True)
        if gate.maxFailedPercent is not None and gate.minExecuted is None:
            yield Finding(("waves", index, "gate", "maxFailedPercent"), "without minExecuted, "
                          "maxFailedPercent judges from the first device: one early failure "
                          "halts the rollout for good; set minExecuted", warning=True,
                          at_key=True)
        if gate.minExecuted is not None and gate.maxFailedPercent is None:
            yield Finding(("waves", index, "gate", "minExecuted"), "minExecuted only says "
                          "when maxFailedPercent starts to judge: give maxFailedPercent",
                          at_key=True)
        if gate.model_dump(exclude_none=True) == {}:
            yield Finding(("waves", index, "gate"), "an empty gate: name a condition, or "
                          "leave gate out (the next wave then waits for this one to "
                          "complete)", at_key=True)
    for index, promoted in enumerate(m.promoted or []):
        if promoted not in names:
            yield Finding(("promoted", index), f"no wave is named {promoted} (waves: "
                          f"{', '.join(names)})")
        elif not any(w.name == promoted and w.gate is not None and w.gate.approval
                     for w in waves):
            yield Finding(("promoted", index), f"wave {promoted} has no gate with approval: "
                          "true; promoting it changes nothing", warning=True)
