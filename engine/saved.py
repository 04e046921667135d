"""Saved plans: ``plan --out FILE`` and ``apply FILE``.

A saved plan holds the changes a reviewer read and a fingerprint (status and last update)
of every remote job they depend on. ``apply FILE`` plans again from the same folder and
applies only if the changes and the fingerprints are what was saved: otherwise the plan is
stale, and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import RolloutsError
from engine.identity import TAG_COMMIT
from engine.workflow import PlanRun

FORMAT = "iot-rollouts-plan/1"


class StalePlan(RolloutsError):
    code = "STALE_PLAN"


class BadPlanFile(RolloutsError):
    code = "PLAN_FILE_ERROR"


def _changes(run: PlanRun) -> list[dict[str, Any]]:
    """The plan's changes as compared: the commit tag is left out, since committing the
    reviewed manifests between plan and apply changes nothing that was reviewed."""
    from engine.render.plan import change_json

    changes = [change_json(run, a) for a in run.plan.actions]
    for change in changes:
        tags = change["request"].get("tags")
        if isinstance(tags, list):
            change["request"]["tags"] = [t for t in tags if t.get("Key") != TAG_COMMIT]
    return changes


def save_plan(path: Path, folder: Path, run: PlanRun, *, prune: bool) -> None:
    body = {"format": FORMAT, "folder": str(folder.resolve()), "prune": prune,
            "changes": _changes(run), "fingerprints": run.plan.fingerprints}
    path.write_text(json.dumps(body, indent=1, sort_keys=True, default=str) + "\n")


def load_saved(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadPlanFile(f"{path} is not a saved plan: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BadPlanFile(f"{path} is not a saved plan of this tool ({FORMAT})")
    return body


def check_saved(saved: dict[str, Any], run: PlanRun) -> None:
    """Raise StalePlan unless ``run`` would make exactly the saved changes."""
    now = json.loads(json.dumps(run.plan.fingerprints, default=str))
    if now != saved["fingerprints"]:
        changed = sorted({job for region in set(now) | set(saved["fingerprints"])
                          for job in set(now.get(region, {})) | set(saved["fingerprints"]
                                                                     .get(region, {}))
                          if now.get(region, {}).get(job)
                          != saved["fingerprints"].get(region, {}).get(job)})
        raise StalePlan(f"the saved plan is stale: {', '.join(changed)} changed in AWS IoT "
                        "since it was made; plan again")
    if json.loads(json.dumps(_changes(run), default=str)) != saved["changes"]:
        raise StalePlan("the saved plan is stale: the manifests or AWS IoT now call for other "
                        "changes; plan again")
