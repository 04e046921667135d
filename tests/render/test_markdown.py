"""The pull-request comment: a snapshot per action type, and hostile input kept harmless."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from engine.actions import Adopt, Cancel, Conflict, Create, JobRef, Rename, Replace, Update
from engine.apply import Outcome
from engine.desired import DesiredJob, NoHashes, desire
from engine.diff import FieldChange
from engine.facts import TAG_NAME, TAG_PROJECT, TAG_SOURCE, TAG_SPEC_HASH
from engine.plan import Orphan, Plan
from engine.render import markdown
from engine.render.plan import Report
from engine.spec import derived_job_id
from engine.validate import validate_folder

SNAPSHOTS = Path(__file__).parent / "snapshots"
HOSTILE = "``` </details> <script>alert(1)</script> @org/team | **Plan:** 99 to create ]("
PROJECT = "acme-fleet"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# What a run without a ledger adds to its plan: no API call, and the ledger's warning.
NO_LEDGER = Report({}, ("no ledger is set: a job that AWS deletes or purges (730 days after "
                        "it ends) would be created again by a later apply; set ledger: in "
                        "_config.yaml",))


def _desired(tmp_path: Path, files: dict[str, str]) -> list[DesiredJob]:
    root = tmp_path / "rollouts"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / ".git").mkdir(exist_ok=True)
    result = validate_folder(root)
    assert result.ok, [str(p) for p in result.problems]
    return [desire(j, project=PROJECT, account="123456789012", region="eu-west-1",
                   commit=COMMIT, hashes=NoHashes()) for j in result.jobs]


def _ref(job_id: str, spec_hash: str = "") -> JobRef:
    return JobRef(job_id, f"arn:aws:iot:eu-west-1:123456789012:job/{job_id}", spec_hash)


def _every_action(tmp_path: Path, description: str = "OTA 2.4.0") -> Plan:
    """A plan with one action of each type, as the planner would build each, and the
    orphan that the prune cancels."""
    base = f"targets: [thinggroup/fleet]\ndescription: '{description}'\n"
    names = ["create", "update", "replace", "renamed", "adopted", "conflict"]
    jobs = _desired(tmp_path, {
        "create.yaml": base + "document: {op: update, version: 2.4.0}\n",
        "update.yaml": base + "document: {op: update}\n",
        "replace.yaml": base + "document: {op: update, version: 2.4.1}\n",
        "renamed.yaml": base + "document: {op: update, version: 2.3.9}\n",
        "adopted.yaml": base + "jobId: legacy-fw-2023\ndocument: {op: legacy}\n",
        "conflict.yaml": base + "jobId: pinned-1\ndocument: {op: new}\n",
    })
    create, update, replace, renamed, adopted, conflict = sorted(
        jobs, key=lambda j: names.index(j.name))
    threshold = FieldChange("abortConfig.criteriaList[0].thresholdPercentage", 10, 5)
    abort = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                               "thresholdPercentage": 5, "minNumberOfExecutedThings": 20}]}
    old_name_id = derived_job_id("old-name", renamed.spec_hash)
    adopt_tags = {TAG_PROJECT: PROJECT, TAG_NAME: adopted.name,
                  TAG_SPEC_HASH: adopted.spec_hash}
    return Plan(
        project=PROJECT,
        actions=(
            Create(create, create.job_id, create.create_request(create.job_id)),
            Update(update, _ref(update.job_id), {"abortConfig": abort}, {}, (), (threshold,)),
            Replace(replace, replace.job_id, replace.create_request(replace.job_id),
                    (_ref("replace-0badc0de", "0badc0de" * 8),),
                    (FieldChange("document.version", "2.4.0", "2.4.1"),)),
            Rename(renamed, _ref(old_name_id, renamed.spec_hash), {},
                   {TAG_PROJECT: PROJECT, TAG_NAME: renamed.name,
                    TAG_SPEC_HASH: renamed.spec_hash, TAG_SOURCE: renamed.source}, (),
                   (FieldChange(f"tags.{TAG_NAME}", "old-name", renamed.name),),
                   old_name="old-name"),
            Adopt(adopted, _ref(adopted.job_id), {}, adopt_tags, (),
                  tuple(FieldChange(f"tags.{k}", None, v) for k, v in sorted(
                      adopt_tags.items()))),
            Cancel("gone", _ref("gone-0123abcd"), "eu-west-1", "rollouts/gone.yaml", "prune"),
            Cancel("steady", _ref("steady-0badc0de"), "eu-west-1", "rollouts/steady.yaml",
                   "replace:steady-0a0a0a0a"),
            Conflict(conflict, conflict.job_id, ("document",),
                     (FieldChange("document.op", "old", "new"),)),
        ),
        unchanged=("steady",),
        notes=("steady: git's revision steady-0a0a0a0a is CANCELED, stopped by a hand or by "
               "its abort criteria, and is not re-created; add rerun: N to the manifest to "
               "roll it out again",),
        orphans=(Orphan("gone", "gone-0123abcd", "eu-west-1", "rollouts/gone.yaml"),),
    )


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no snapshot {name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text()


def test_snapshot__every_action_type(tmp_path: Path) -> None:
    _check_snapshot("plan-every-action.md",
                    markdown.render(_every_action(tmp_path), NO_LEDGER))


def test_snapshot__apply_with_outcomes(tmp_path: Path) -> None:
    planned = _every_action(tmp_path)
    plan = replace(planned, actions=planned.changes)  # a plan with a conflict is never applied
    outcomes = [Outcome(a, i % 2 == 0, "done" if i % 2 == 0 else "UpdateJob failed: x")
                for i, a in enumerate(plan.changes)]
    _check_snapshot("apply-outcomes.md", markdown.render(plan, NO_LEDGER, outcomes))


def test_snapshot__no_changes(tmp_path: Path) -> None:
    plan = Plan(PROJECT, (), ("a", "b"), ())
    _check_snapshot("plan-no-changes.md", markdown.render(plan, NO_LEDGER))


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
    plan = _every_action(tmp_path, description)
    # Names and sources of orphans come from AWS's tags: anyone who can tag a job wrote them.
    plan = replace(plan, orphans=(Orphan(HOSTILE, "x-1", "eu-west-1", HOSTILE),))
    outcomes = [Outcome(a, False, "AccessDenied:\n" + HOSTILE + "\n</details>")
                for a in plan.changes]
    for text, shown in ((markdown.render(plan, NO_LEDGER), 0),
                        (markdown.render(plan, NO_LEDGER, outcomes), len(outcomes))):
        visible = outside_code(text)
        assert "<script>" not in visible
        # Every block the renderer made is still where it was: nothing opened a fence early.
        assert visible.count("<details>") == visible.count("</details>") == len(plan.actions)
        assert visible.count("Outcome: ") == shown
        rows = [line for line in visible.splitlines() if line.startswith("| ")]
        assert len(rows) == 1 + len(plan.actions)  # the header, and one row per action
        # Bullets: what failed first (the conflict, or each failed action), then the
        # orphans and the notes; nothing from a manifest or AWS made another.
        failed = 1 + shown  # the conflict, and each failed action
        assert len([line for line in visible.splitlines() if line.startswith("- ")]) == (
            failed + len(plan.orphans) + len(plan.notes) + len(NO_LEDGER.warnings))
        assert not re.search(r"@org(?!\u200b)", visible.replace("@\u200borg", ""))
        assert len(re.findall(r"^\*\*(Plan|Applied):\*\*", visible, re.M)) == 1
        assert len(re.findall(r"^### ", visible, re.M)) == 1
        assert visible.splitlines()[1].startswith("### \u274c ")
        for row in (line for line in visible.splitlines() if line.startswith("| ")):
            assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
        assert text.count(markdown.MARKER) == 1


def test_hostile_source_path__escaped_in_the_table(tmp_path: Path) -> None:
    jobs = _desired(tmp_path, {"x|`y`<b>@team.yaml": "name: weird\ntargets: [thing/a]\n"
                                                      "document: {}\n"})
    create = Create(jobs[0], jobs[0].job_id, jobs[0].create_request(jobs[0].job_id))
    text = markdown.render(Plan(PROJECT, (create,), (), ()), NO_LEDGER)
    row = next(line for line in text.splitlines() if line.startswith("| \\+"))
    assert "x\\|\\`y\\`&lt;b&gt;@\u200bteam.yaml" in row


def test_over_the_comment_limit__details_cut_and_said(tmp_path: Path) -> None:
    plan = _every_action(tmp_path)
    full = markdown.render(plan, NO_LEDGER)
    short = markdown.render(plan, NO_LEDGER, plan_file="plan.json", limit=len(full) - 500)
    assert len(short) <= len(full) - 500
    assert "shortened to fit GitHub's comment limit" in short and "plan.json" in short
    assert short.count("<details>") == short.count("</details>")
