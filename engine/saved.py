"""Saved plans: ``plan --out FILE`` and ``apply FILE``.

A saved plan holds the changes a reviewer read, each as the exact API calls it makes, and
a fingerprint (status and last update) of every remote job they depend on. ``apply FILE``
plans again from the same folder and applies only if the calls and the fingerprints are
what was saved: otherwise the plan is stale, and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.actions import Action
from engine.errors import RolloutsError
from engine.facts import TAG_COMMIT
from engine.plan import Plan

FORMAT = "iot-rollouts-plan/2"


class StalePlan(RolloutsError):
    code = "STALE_PLAN"


class BadPlanFile(RolloutsError):
    code = "PLAN_ERROR"


def _without_commit(params: dict[str, Any]) -> dict[str, Any]:
    """Committing the reviewed manifests between plan and apply changes nothing that was
    reviewed: the commit tag a create writes is left out of the comparison."""
    tags = params.get("tags")
    if not isinstance(tags, list):
        return params
    return {**params, "tags": [t for t in tags if t.get("Key") != TAG_COMMIT]}


@dataclass(frozen=True)
class SavedChange:
    verb: str
    name: str
    job_id: str
    region: str
    calls: tuple[tuple[str, str], ...]  # operation, canonical JSON of its parameters

    @classmethod
    def of(cls, action: Action) -> SavedChange:
        calls = tuple((op, json.dumps(_without_commit(params), sort_keys=True, default=str))
                      for op, params in action.calls())
        return cls(action.verb, action.name, action.job_id, action.region, calls)

    def as_json(self) -> dict[str, Any]:
        return {"verb": self.verb, "name": self.name, "jobId": self.job_id,
                "region": self.region, "calls": [list(c) for c in self.calls]}

    @classmethod
    def from_json(cls, data: Any) -> SavedChange:
        return cls(str(data["verb"]), str(data["name"]), str(data["jobId"]),
                   str(data["region"]),
                   tuple((str(op), str(params)) for op, params in data["calls"]))


@dataclass(frozen=True)
class SavedPlan:
    folder: str
    prune: bool
    project: str
    changes: tuple[SavedChange, ...]
    fingerprints: dict[str, dict[str, str]]

    @classmethod
    def of(cls, plan: Plan, folder: Path, *, prune: bool) -> SavedPlan:
        return cls(str(folder.resolve()), prune, plan.project,
                   tuple(SavedChange.of(a) for a in plan.actions),
                   {r: dict(jobs) for r, jobs in plan.fingerprints.items()})

    def to_json(self) -> str:
        body = {"format": FORMAT, "folder": self.folder, "prune": self.prune,
                "project": self.project, "changes": [c.as_json() for c in self.changes],
                "fingerprints": self.fingerprints}
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> SavedPlan:
        try:
            body = json.loads(text)
            if not isinstance(body, dict) or body.get("format") != FORMAT:
                raise BadPlanFile(f"{where} is not a saved plan of this version of the tool "
                                  f"({FORMAT}); plan again with --out")
            if not isinstance(body["prune"], bool) or not isinstance(body["project"], str) \
                    or not isinstance(body["folder"], str):
                raise TypeError("folder, project or prune of the wrong type")
            return cls(body["folder"], body["prune"], body["project"],
                       tuple(SavedChange.from_json(c) for c in body["changes"]),
                       {str(r): {str(j): str(f) for j, f in jobs.items()}
                        for r, jobs in body["fingerprints"].items()})
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise BadPlanFile(f"{where} is not a readable saved plan ({exc}); plan again "
                              "with --out") from exc


def save_plan(path: Path, folder: Path, plan: Plan, *, prune: bool) -> None:
    if path.resolve().is_relative_to(folder.resolve()):
        raise BadPlanFile(f"{path} is inside the rollouts folder {folder}, where it would be "
                          "read as a manifest (or overwrite one): save the plan outside it")
    try:
        path.write_text(SavedPlan.of(plan, folder, prune=prune).to_json())
    except OSError as exc:
        raise BadPlanFile(f"cannot write the plan to {path}: {exc.strerror or exc}") from exc


def load_saved(path: Path) -> SavedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadPlanFile(f"{path} cannot be read as a saved plan: {exc}") from exc
    return SavedPlan.from_json(text, str(path))


def check_saved(saved: SavedPlan, plan: Plan) -> None:
    """Raise StalePlan unless ``plan`` would make exactly the saved calls."""
    if plan.project != saved.project:
        raise BadPlanFile(f"the saved plan is of project {saved.project}, the folder's is "
                          f"{plan.project}; plan again with --out")
    now = plan.fingerprints
    if now != saved.fingerprints:
        regions = set(now) | set(saved.fingerprints)
        changed = sorted({job for r in regions
                          for job in set(now.get(r, {})) | set(saved.fingerprints.get(r, {}))
                          if now.get(r, {}).get(job) != saved.fingerprints.get(r, {}).get(job)})
        raise StalePlan(f"the saved plan is stale: {', '.join(changed)} changed in AWS IoT "
                        "since it was made; plan again")
    if tuple(SavedChange.of(a) for a in plan.actions) != saved.changes:
        raise StalePlan("the saved plan is stale: the manifests or AWS IoT now call for other "
                        "changes; plan again")


def check_folder(saved: SavedPlan, here: Path | None) -> None:
    """A saved plan applies to the rollouts folder it was made of: refuse it where this
    command finds another one (a copy of the plan in another checkout)."""
    made = Path(saved.folder)
    if not made.is_dir():
        raise BadPlanFile(f"the saved plan was made of {made}, which is no folder here; run "
                          "apply FILE in the checkout that made it, or plan again")
    # A plan of a subfolder (plan rollouts/firmware --out) is of this checkout too.
    if here is not None and not made.resolve().is_relative_to(here.resolve()):
        raise BadPlanFile(f"the saved plan was made of {made}, not of {here.resolve()} (the "
                          "rollouts folder here); run apply FILE in the checkout that made it, "
                          "or plan again here")
