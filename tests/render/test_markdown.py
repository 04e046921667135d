"""The pull-request comment: a snapshot per action type, and hostile input kept harmless."""

from __future__ import annotations

import os
import re
from pathlib import Path

from engine.apply import Outcome
from engine.desired import DesiredJob, desire
from engine.diff import FieldChange
from engine.ledger import NoLedger
from engine.plan import Cancel, Conflict, Create, Plan, Replace, Update
from engine.render import markdown
from engine.validate import validate_folder
from engine.workflow import PlanRun

SNAPSHOTS = Path(__file__).parent / "snapshots"
HOSTILE = "``` </details> <script>alert(1)</script> @org/team | **Plan:** 99 to create ]("


def _desired(tmp_path: Path, files: dict[str, str]) -> list[DesiredJob]:
    root = tmp_path / "rollouts"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / ".git").mkdir(exist_ok=True)
    result = validate_folder(root)
    assert result.ok, [str(p) for p in result.problems]
    return [desire(j, account="123456789012", region="eu-west-1") for j in result.jobs]


def _run(jobs: list[DesiredJob], plan: Plan) -> PlanRun:
    return PlanRun(validation=None, desired=jobs, plan=plan, apis={},  # type: ignore[arg-type]
                   ledger=NoLedger(), commit="0123456789abcdef0123456789abcdef01234567")


def _every_action(tmp_path: Path, description: str = "OTA 2.4.0") -> PlanRun:
    base = f"targets: [thinggroup/fleet]\ndescription: '{description}'\n"
    jobs = _desired(tmp_path, {
        "create.yaml": base + "document: {op: update, version: 2.4.0}\n",
        "update.yaml": base + "document: {op: update}\n",
        "replace.yaml": base + "document: {op: update, version: 2.4.1}\n",
        "conflict.yaml": base + "jobId: pinned-1\ndocument: {op: new}\n",
    })
    create, update, replace, conflict = sorted(jobs, key=lambda j: ["create", "update",
                                                                    "replace", "conflict"]
                                               .index(j.name))
    threshold = FieldChange("abortConfig.criteriaList[0].thresholdPercentage", 10, 5)
    plan = Plan(
        actions=(
            Create(create),
            Update(update, "arn:aws:iot:eu-west-1:123456789012:job/" + update.job_id,
                   {"abortConfig": {}}, {}, (), (threshold,)),
            Replace(replace, ("replace-0badc0de",),
                    (FieldChange("document.version", "2.4.0", "2.4.1"),)),
            Cancel("gone", "gone-0123abcd", "eu-west-1", "rollouts/gone.yaml"),
            Conflict(conflict, ("document",), (FieldChange("document.op", "old", "new"),)),
        ),
        unchanged=("steady",),
        notes=("steady-0a0a0a0a was canceled remotely and is not re-created",),
    )
    return _run(jobs, plan)


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no snapshot {name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text()


def test_snapshot__every_action_type(tmp_path: Path) -> None:
    _check_snapshot("plan-every-action.md", markdown.render(_every_action(tmp_path)))


def test_snapshot__apply_with_outcomes(tmp_path: Path) -> None:
    run = _every_action(tmp_path)
    outcomes = [Outcome(a, i % 2 == 0, "done" if i % 2 == 0 else "UpdateJob failed: x")
                for i, a in enumerate(run.plan.changes)]
    _check_snapshot("apply-outcomes.md", markdown.render(run, outcomes))


def test_snapshot__no_changes(tmp_path: Path) -> None:
    run = _run([], Plan((), ("a", "b"), ()))
    _check_snapshot("plan-no-changes.md", markdown.render(run))


def outside_code(text: str) -> str:
    """The comment with fenced code blocks removed, as GitHub would not render them."""
    kept, fence = [], None
    for line in text.splitlines():
        match = re.match(r"^(`{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.startswith(fence) and line.strip("`") == "":
            fence = None
        elif fence is None:
            kept.append(line)
    assert fence is None, "a code block was left open"
    return "\n".join(kept)


def test_hostile_strings__cannot_break_out_mention_or_forge(tmp_path: Path) -> None:
    description = HOSTILE.replace("'", "")
    run = _every_action(tmp_path, description)
    outcomes = [Outcome(a, False, "AccessDenied:\n" + HOSTILE + "\n</details>")
                for a in run.plan.changes]
    for text, shown in ((markdown.render(run), 0), (markdown.render(run, outcomes),
                                                    len(outcomes))):
        visible = outside_code(text)
        assert "<script>" not in visible
        # Every block the renderer made is still where it was: nothing opened a fence early.
        assert visible.count("<details>") == visible.count("</details>") == len(run.plan.actions)
        assert visible.count("Outcome: ") == shown
        assert len([line for line in visible.splitlines() if line.startswith("| ")]) == 6
        assert not re.search(r"@org(?!\u200b)", visible.replace("@\u200borg", ""))
        assert len(re.findall(r"^\*\*(Plan|Applied):\*\*", visible, re.M)) == 1
        for row in (line for line in visible.splitlines() if line.startswith("| ")):
            assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
        assert text.count(markdown.MARKER) == 1


def test_hostile_source_path__escaped_in_the_table(tmp_path: Path) -> None:
    jobs = _desired(tmp_path, {"x|`y`<b>@team.yaml": "name: weird\ntargets: [thing/a]\n"
                                                      "document: {}\n"})
    text = markdown.render(_run(jobs, Plan((Create(jobs[0]),), (), ())))
    row = next(line for line in text.splitlines() if line.startswith("| \\+"))
    assert "x\\|\\`y\\`&lt;b&gt;@\u200bteam.yaml" in row


def test_over_the_comment_limit__details_cut_and_said(tmp_path: Path) -> None:
    run = _every_action(tmp_path)
    full = markdown.render(run)
    short = markdown.render(run, plan_file="plan.json", limit=len(full) - 500)
    assert len(short) <= len(full) - 500
    assert "shortened to fit GitHub's comment limit" in short and "plan.json" in short
    assert short.count("<details>") == short.count("</details>")
