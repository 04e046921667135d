"""A plan (or an apply) as a pull-request comment.

Every string from a manifest or from AWS is escaped: it cannot end a table cell or a code
block, open HTML, mention a person or team, or pass for the summary. A hidden marker lets a
workflow find and update its own earlier comment. Past GitHub's comment limit the details
are cut, and the comment says so and points at the saved plan.
"""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

from engine.actions import Action, Conflict, Update
from engine.apply import Outcome
from engine.errors import Problem, failure_code
from engine.plan import Plan
from engine.render.plan import Report, explanation, review, summary_text
from engine.review.figures import Review, wave_key

MARKER = "<!-- iot-rollouts:plan -->"
GITHUB_LIMIT = 65_536
# Characters that could start markup inside a line; `-` and `.` only matter at a line's start.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()!|~])")


def inline(value: object) -> str:
    """Text safe in a table cell or a line: no markup, no HTML, no mention, one line."""
    text = " ".join(str(value).split())  # newlines and tabs become spaces
    text = html.escape(text, quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b")  # @org/team stays text, never a mention


def in_html(value: object) -> str:
    """Text safe inside an HTML element (a summary), where markdown is not read."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return text.replace("@", "@\u200b")


def code_block(text: str, language: str = "") -> str:
    """A fenced block that no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _yaml(value: Any) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(value, stream)
    return stream.getvalue().rstrip("\n")


def _details(action: Action, outcome: Outcome | None) -> str:
    title = f"{action.symbol} {action.verb} {in_html(action.name)}"
    parts = [f"<details><summary>{title}</summary>", ""]
    if action.diff:
        lines = [f"{c.path}: {_short(c.before)} -> {_short(c.after)}{c.from_note}"
                 for c in action.diff]
        parts += ["Fields that change:", "", code_block("\n".join(lines), "diff"), ""]
    why = explanation(action)
    if why:
        parts += [inline(why) + ".", ""]
    if not isinstance(action, Update):
        for operation, params in action.calls():
            parts += [f"{operation}:", "", code_block(_yaml(params), "yaml"), ""]
    if outcome is not None:
        parts += [f"Outcome: {'done' if outcome.ok else '**failed**'}: "
                  f"{inline(outcome.message)}", ""]
    parts.append("</details>")
    return "\n".join(parts)


def _figure_cells(figures: Review | None) -> str:
    """The review columns of a row: reach, time to notify all, failures that abort."""
    if figures is None:
        return "- | - | -"
    return " | ".join(inline(cell) for cell in figures.cells())


def _short(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def heading(plan: Plan, outcomes: list[Outcome] | None) -> str:
    """The first line: at once whether the plan (or the apply) succeeded or failed
    (numbers and fixed words only, so nothing to escape)."""
    failed = sum(not o.ok for o in outcomes or [])
    conflicts = plan.summary()["conflict"]
    if plan.failed:
        what = [_count(len(plan.errors), "error")] if plan.errors else []
        what += [_count(conflicts, "conflict")] if conflicts else []
        return f"### \u274c Plan failed: {', '.join(what)}"
    if failed:
        return f"### \u274c Apply failed: {failed} of {len(outcomes or [])} actions"
    if outcomes is None:
        return f"### \u2705 Plan: {summary_text(plan.summary())}"
    return f"### \u2705 Applied: {summary_text(plan.summary())}"


def summary_line(plan: Plan) -> str:
    """The plan's counts, under the errors of a failed plan or apply."""
    return f"**Plan:** {summary_text(plan.summary())}"


def failures(plan: Plan, outcomes: list[Outcome] | None) -> list[str]:
    """What failed, first: the plan's errors and conflicts, or the actions that failed."""
    lines = [f"- {inline(e)}" for e in plan.errors]
    lines += [f"- conflict: {inline(a.name)} ({inline(a.job_id)}): {inline(why)}"
              for a in plan.actions if isinstance(a, Conflict)
              for why in [explanation(a) or "conflict"]]
    lines += [f"- {inline(o.action.name)} ({inline(o.action.job_id)}): {inline(o.message)}"
              for o in outcomes or [] if not o.ok]
    if not lines:
        return []
    after = ("Nothing is applied until these are fixed." if plan.failed
             else "Run apply again to finish the rest.")
    return [*lines, "", after, "", summary_line(plan), ""]


def render(plan: Plan, report: Report, outcomes: list[Outcome] | None = None, *,
           plan_file: str | None = None, limit: int = GITHUB_LIMIT) -> str:
    by_action = {id(o.action): o for o in outcomes or []}
    head = [MARKER, heading(plan, outcomes), "", *failures(plan, outcomes),
            f"Project: {inline(plan.project)}", ""]
    if plan.actions:
        figured = bool(plan.reviews)  # the review columns, where the plan has figures
        # The account gets a column where a declared account (accounts:) is in play.
        accounts = any(a.where != a.region for a in plan.actions)
        head += ["| | action | rollout | job id |" + (" account |" if accounts else "")
                 + " region | manifest |" + (" reach | time | aborts after |" if figured else ""),
                 "|---|---|---|---|" + ("---|" if accounts else "") + "---|---|"
                 + ("---|---|---|" if figured else "")]
        for action in plan.actions:
            symbol = action.symbol.replace("-", "\\-").replace("+", "\\+").replace(
                ">", "&gt;")
            account = (f" {inline(action.where.rpartition('/')[0] or action.account)} |"
                       if accounts else "")
            head.append(f"| {symbol} | {action.verb} | {inline(action.name)} | "
                        f"{inline(action.job_id)} |{account} {inline(action.region)} | "
                        f"{inline(action.source or '')} |"
                        + (f" {_figure_cells(review(plan, action))} |" if figured else ""))
        head.append("")
    elif not plan.orphans:
        head += ["No changes: AWS IoT matches the manifests.", ""]
    if plan.waves:
        figured = bool(plan.reviews)
        head += ["**Waves**", "", "| rollout | wave | job id | state | why |"
                 + (" reach | time | aborts after |" if figured else ""),
                 "|---|---|---|---|---|" + ("---|---|---|" if figured else "")]
        for step in plan.waves:
            wave = step.desired.wave.name if step.desired.wave else ""
            job = step.job.job_id if step.job else "-"
            figures = plan.reviews.get(wave_key(step.desired.region, step.desired.job_id))
            head.append(f"| {inline(step.desired.name)} | {inline(wave)} | {inline(job)} | "
                        f"{step.state} | {inline(step.reason)} |"
                        + (f" {_figure_cells(figures)} |" if figured else ""))
        head.append("")
    head += exception_section(report)
    if plan.orphans:
        head += ["**Orphans** (active jobs whose rollout is not in git):", ""]
        head += [f"- {inline(o.name)}: {inline(o.job_id)} in {inline(o.where)} "
                 f"({inline(o.source or 'no source')})" for o in plan.orphans]
        head.append("")
    tail: list[str] = []
    notes = report.notes(plan)
    if notes:
        tail += ["**Notes**", ""] + [f"- {inline(n)}" for n in notes] + [""]
    calls = ", ".join(f"{op} {n}" for op, n in report.api_calls.items()) or "none"
    tail.append(f"<sub>AWS API calls: {inline(calls)}</sub>")
    details = [_details(a, by_action.get(id(a))) for a in plan.actions]
    body = "\n".join(head + details + [""] + tail)
    if len(body) <= limit:
        return body
    where = f" in the saved plan ({inline(plan_file)})" if plan_file else " in the saved plan"
    cut = [f"_The details are shortened to fit GitHub's comment limit; the full plan is"
           f"{where} attached to this run._", ""]
    kept: list[str] = []
    size = len("\n".join(head + cut + tail)) + 200
    for block in details:
        if size + len(block) > limit:
            break
        kept.append(block)
        size += len(block) + 1
    return "\n".join(head + cut + kept + [""] + tail)


def exception_section(report: Report) -> list[str]:
    """The policy exceptions the manifests use, with their reasons, for reviewers."""
    if not report.exceptions:
        return []
    lines = ["**Policy exceptions in use**", "", "| rollout | policy | reason | manifest |",
             "|---|---|---|---|"]
    lines += [f"| {inline(w.name)} | {inline(w.policy)} | {inline(w.reason)} | "
              f"{inline(w.source)} |" for w in report.exceptions]
    return [*lines, ""]


def problems(items: list[Problem]) -> str:
    """Validation errors (or policy violations) as a comment."""
    what = ("policy violations" if failure_code(items) == "POLICY_VIOLATION"
            else "invalid manifests")
    lines = [MARKER, f"### \u274c Plan failed: {what}, "
                     f"{_count(sum(p.is_error for p in items), 'error')}", ""]
    lines += [f"- {inline(str(p))}" for p in items]
    lines += ["", "Nothing was planned: no API call is made until they are fixed."]
    return "\n".join(lines)


def error(code: str, message: str) -> str:
    """Any other error as a comment: one line under the heading."""
    return "\n".join([MARKER, f"### \u274c Failed: {inline(code)}", "", inline(message)])
