"""How a plan and an apply read: Terraform-like text, or the JSON envelope's ``data``.

Renderers take the plan and a ``Report`` (what the run adds: API calls, the ledger's
warning); they never import the workflow.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from engine.actions import (
    Action,
    Cancel,
    Conflict,
    Create,
    Halt,
    Rename,
    Replace,
    main_request,
)
from engine.apply import Outcome
from engine.plan import Plan
from engine.policies import Waiver
from engine.render.brief import brief
from engine.render.safe import clean_text
from engine.review.figures import Review, action_key, wave_key

COLOURS = {"create": "green", "update": "yellow", "replace": "magenta", "rename": "cyan",
           "adopt": "blue", "cancel": "red", "halt": "red", "conflict": "red"}


@dataclass(frozen=True)
class Report:
    """What a run adds to its plan when shown: API calls made, and warnings of the run."""

    api_calls: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # The policy exceptions the manifests use, each with its reason (DESIGN.md section 9).
    exceptions: tuple[Waiver, ...] = ()

    def notes(self, plan: Plan) -> list[str]:
        return [*plan.notes, *self.warnings]


def use_colour(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def change_json(action: Action, outcome: Outcome | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "action": action.verb, "name": action.name, "jobId": action.job_id,
        "region": action.region, "source": action.source, "request": main_request(action),
        "calls": [{"operation": op, "params": params} for op, params in action.calls()],
        "replaces": list(action.old_job_ids) if isinstance(action, Replace) else [],
        "diff": [c.as_dict() for c in action.diff],
    }
    if action.account:
        change["account"] = action.account
    if isinstance(action, Rename):
        change["renamedFrom"] = action.old_name
    if isinstance(action, Cancel | Halt):
        change["reason"] = action.reason
    if isinstance(action, Conflict):
        change["fields"] = list(action.fields)
    if outcome is not None:
        change["outcome"] = {"ok": outcome.ok, "message": outcome.message}
    return change


def data(plan: Plan, report: Report, outcomes: list[Outcome] | None = None) -> dict[str, Any]:
    by_action = {id(o.action): o for o in outcomes or []}
    return {
        "project": plan.project,
        "summary": plan.summary(),
        "changes": [_reviewed(change_json(a, by_action.get(id(a)) if outcomes is not None
                                          else None), review(plan, a))
                    for a in plan.actions],
        "orphans": [{"name": o.name, "jobId": o.job_id, "region": o.region,
                     **({"account": o.account} if o.alias is not None else {}),
                     "source": o.source} for o in plan.orphans],
        "waves": [_reviewed(step.as_dict(), plan.reviews.get(
            wave_key(step.desired.region, step.desired.job_id))) for step in plan.waves],
        "notes": report.notes(plan),
        "errors": list(plan.errors),
        "apiCalls": report.api_calls,
        "policyExceptions": [w.as_dict() for w in report.exceptions],
    }


def review(plan: Plan, action: Action) -> Review | None:
    """The review figures of a change, where the plan has them."""
    return plan.reviews.get(action_key(action.verb, action.region, action.job_id))


def _reviewed(entry: dict[str, Any], figures: Review | None) -> dict[str, Any]:
    if figures is not None:
        entry["review"] = figures.as_json()
    return entry


def exception_lines(report: Report) -> list[str]:
    """The policy exceptions in use, one line each, for text output."""
    if not report.exceptions:
        return []
    return ["Policy exceptions in use:"] + [
        f"  {clean_text(w.name)} ({clean_text(w.source)}): {clean_text(w.policy)}: "
        f"{clean_text(w.reason)}" for w in report.exceptions]


def _value(value: Any) -> str:
    return "(none)" if value is None else clean_text(json.dumps(value, ensure_ascii=False))


def explanation(action: Action) -> str | None:
    """One line that says what the action does beyond its diff."""
    if isinstance(action, Replace):
        return (f"cancels {', '.join(action.old_job_ids)}, then creates {action.job_id}")
    if isinstance(action, Rename):
        return f"takes over {action.job_id} from {action.old_name}"
    if isinstance(action, Cancel):
        why = ("its rollout left git (--prune)" if action.reason == "prune"
               else f"git's revision is {action.reason.removeprefix('replace:')}")
        return f"cancels {action.job_id}: {why}"
    if isinstance(action, Halt):
        return (f"{'cancels' if action.cancel else 'marks'} {action.job_id} and halts its "
                f"rollout: its gate failed ({action.reason}); no later wave is created")
    if isinstance(action, Conflict):
        return (f"jobId {action.job_id} is pinned and exists with other "
                f"{', '.join(action.fields)}: change the jobId, or revert")
    return None


def summary_text(counts: dict[str, int]) -> str:
    text = (f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['replace']} to replace, {counts['rename']} to rename, "
            f"{counts['adopt']} to adopt, {counts['cancel']} to cancel, "
            f"{counts['unchanged']} unchanged")
    if counts["orphaned"]:
        text += f", {counts['orphaned']} orphaned"
    if counts.get("halt"):
        text += f", {counts['halt']} to halt"
    if counts["conflict"]:
        text += f", {counts['conflict']} in conflict"
    return text


def text(plan: Plan, report: Report, outcomes: list[Outcome] | None = None, *,
         colour: bool = False) -> str:
    import click

    by_action = {id(o.action): o for o in outcomes or []}
    lines: list[str] = [f"Project {clean_text(plan.project)}"]
    for action in plan.actions:
        head = (f"{action.symbol:>3} {action.verb:<8} {clean_text(action.name)}  "
                f"({clean_text(action.job_id)}, {clean_text(action.where)})  "
                f"{clean_text(action.source or '')}")
        lines.append(click.style(head, fg=COLOURS[action.verb]) if colour else head)
        figures = review(plan, action)
        if figures is not None:
            lines.append(f"      {clean_text(figures.short)}")
        why = explanation(action)
        if why:
            lines.append(f"      {clean_text(why)}")
        if isinstance(action, Create):
            lines += [f"      {line}" for line in brief(action.request)]
        for change in action.diff:
            lines.append(f"      {clean_text(change.path)}: {_value(change.before)} -> "
                         f"{_value(change.after)}{clean_text(change.from_note)}")
        outcome = by_action.get(id(action))
        if outcome is not None:
            mark = "done" if outcome.ok else "FAILED"
            line = f"      {mark}: {clean_text(outcome.message)}"
            lines.append(click.style(line, fg="green" if outcome.ok else "red")
                         if colour else line)
    pruned = {a.job_id for a in plan.actions if isinstance(a, Cancel)}
    for orphan in plan.orphans:
        if orphan.job_id in pruned:
            continue  # its cancel is above
        lines.append(f"  ? orphan   {clean_text(orphan.name)}  ({clean_text(orphan.job_id)}, "
                     f"{clean_text(orphan.where)})  {clean_text(orphan.source or '')}")
    if plan.waves:
        lines.append("Waves (as planned, before this apply):" if outcomes is not None
                     else "Waves:")
        lines += [f"  {line}" for line in wave_table(plan)]
    if not plan.actions and not plan.orphans:
        lines.append("No changes: AWS IoT matches the manifests.")
    lines.append(("Applied: " if outcomes is not None else "Plan: ")
                 + summary_text(plan.summary()) + ".")
    for error in plan.errors:
        lines.append(f"error: {clean_text(error)}")
    lines += exception_lines(report)
    lines += [f"note: {clean_text(n)}" for n in report.notes(plan)]
    calls = report.api_calls
    lines.append("API calls: " + (", ".join(f"{op} {n}" for op, n in calls.items()) or "none"))
    if outcomes is not None:
        failed = [o for o in outcomes if not o.ok]
        if failed:
            lines.append(f"{len(failed)} of {len(outcomes)} actions failed; run apply again "
                         "to finish the rest.")
    return "\n".join(lines)


def wave_table(plan: Plan) -> list[str]:
    """Where each rollout in waves stands: one line per wave, in columns."""
    rows = [(step.desired.name, step.desired.wave.name if step.desired.wave else "",
             step.job.job_id if step.job else "-", step.state, step.reason)
            for step in plan.waves]
    widths = [max(len(clean_text(r[i])) for r in rows) for i in range(4)]
    # Figures of the waves still to create (those of a wave that runs are history).
    figures = [None if step.job is not None else
               plan.reviews.get(wave_key(step.desired.region, step.desired.job_id))
               for step in plan.waves]
    return [" ".join(clean_text(cell).ljust(width) for cell, width in zip(row, widths,
                                                                          strict=False))
            + f" {clean_text(row[4])}"
            + (f" ({clean_text(f.short)})" if f is not None else "")
            for row, f in zip(rows, figures, strict=True)]
