"""How a plan and an apply read: Terraform-like text, or the JSON envelope's ``data``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from typing_extensions import assert_never

from engine.apply import Outcome
from engine.plan import ACTION_NAMES, Action, Cancel, Conflict, Create, Replace, Update
from engine.render.safe import clean_text
from engine.workflow import PlanRun, ledger_warning

SYMBOLS = {Create: "+", Update: "~", Replace: "-/+", Cancel: "-", Conflict: "!"}
COLOURS = {Create: "green", Update: "yellow", Replace: "magenta", Cancel: "red",
           Conflict: "red"}


def use_colour(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _job_fields(action: Action) -> tuple[str, str, str, str | None]:
    """name, jobId, region, source of an action."""
    match action:
        case Create() | Update() | Replace() | Conflict():
            j = action.job
            return j.name, j.job_id, j.region, j.source
        case Cancel():
            return action.name, action.job_id, action.region, action.source
        case _:
            assert_never(action)


def request_of(run: PlanRun, action: Action) -> dict[str, Any]:
    """The exact parameters of the action's main API call."""
    match action:
        case Create() | Replace() | Conflict():
            return action.job.create_request(run.extra_tags(action.job))
        case Update():
            return {"jobId": action.job.job_id, **action.fields}
        case Cancel():
            return {"jobId": action.job_id}
        case _:
            assert_never(action)


def change_json(run: PlanRun, action: Action, outcome: Outcome | None = None) -> dict[str, Any]:
    name, job_id, region, source = _job_fields(action)
    diff = action.diff if isinstance(action, Update | Conflict | Replace) else ()
    change: dict[str, Any] = {
        "action": ACTION_NAMES[type(action)], "name": name, "jobId": job_id,
        "region": region, "source": source, "request": request_of(run, action),
        "replaces": ", ".join(action.old_job_ids) if isinstance(action, Replace) else None,
        "diff": [c.as_dict() for c in diff],
    }
    if isinstance(action, Conflict):
        change["fields"] = list(action.fields)
    if outcome is not None:
        change["outcome"] = {"ok": outcome.ok, "message": outcome.message}
    return change


def data(run: PlanRun, outcomes: list[Outcome] | None = None) -> dict[str, Any]:
    plan = run.plan
    by_action = {id(o.action): o for o in outcomes or []}
    notes = list(plan.notes)
    warning = ledger_warning(run)
    if warning:
        notes.append(warning)
    return {
        "summary": plan.summary(),
        "changes": [change_json(run, a, by_action.get(id(a)) if outcomes is not None else None)
                    for a in plan.actions],
        "notes": notes,
        "errors": list(plan.errors),
        "apiCalls": run.api_calls(),
    }


def _value(value: Any) -> str:
    return "(none)" if value is None else clean_text(json.dumps(value, ensure_ascii=False))


def text(run: PlanRun, outcomes: list[Outcome] | None = None, *, colour: bool = False) -> str:
    import click

    plan = run.plan
    by_action = {id(o.action): o for o in outcomes or []}
    lines: list[str] = []
    for action in plan.actions:
        name, job_id, region, source = _job_fields(action)
        symbol = SYMBOLS[type(action)]
        head = (f"{symbol:>3} {ACTION_NAMES[type(action)]:<8} {clean_text(name)}  "
                f"({clean_text(job_id)}, {region})  {clean_text(source or '')}")
        lines.append(click.style(head, fg=COLOURS[type(action)]) if colour else head)
        if isinstance(action, Replace):
            lines.append(f"      cancels {', '.join(action.old_job_ids)}, then creates "
                         f"{action.job.job_id}")
        if isinstance(action, Conflict):
            lines.append(f"      jobId {job_id} is pinned and exists with other "
                         f"{', '.join(action.fields)}: change the jobId, or revert")
        for change in action.diff if isinstance(action, Update | Conflict | Replace) else ():
            lines.append(f"      {clean_text(change.path)}: {_value(change.before)} -> "
                         f"{_value(change.after)}")
        outcome = by_action.get(id(action))
        if outcome is not None:
            mark = "done" if outcome.ok else "FAILED"
            line = f"      {mark}: {clean_text(outcome.message)}"
            lines.append(click.style(line, fg="green" if outcome.ok else "red")
                         if colour else line)
    counts = plan.summary()
    summary = (f"{counts['create']} to create, {counts['update']} to update, "
               f"{counts['replace']} to replace, {counts['cancel']} to cancel, "
               f"{counts['unchanged']} unchanged")
    if counts["conflict"]:
        summary += f", {counts['conflict']} in conflict"
    if not plan.actions:
        lines.append("No changes: AWS IoT matches the manifests.")
    lines.append(("Applied: " if outcomes is not None else "Plan: ") + summary + ".")
    for error in plan.errors:
        lines.append(f"error: {clean_text(error)}")
    notes = list(plan.notes)
    warning = ledger_warning(run)
    if warning:
        notes.append(warning)
    lines += [f"note: {clean_text(n)}" for n in notes]
    calls = run.api_calls()
    lines.append("API calls: " + (", ".join(f"{op} {n}" for op, n in calls.items()) or "none"))
    if outcomes is not None:
        failed = [o for o in outcomes if not o.ok]
        if failed:
            lines.append(f"{len(failed)} of {len(outcomes)} actions failed; run apply again "
                         "to finish the rest.")
    return "\n".join(lines)
