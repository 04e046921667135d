"""Review (lifecycle): sequences against the reworked reads of AWS (DESIGN.md 3, 5, 10)
that leave the fleet or the ledger other than the contract says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.aws import IotApi
from engine.workflow import apply_run
from tests.test_lifecycle_attacks import apply, doc, jobs, plan, repo_at


def test_rename__tag_index_lags__second_plan_shows_no_changes(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """remote.reread_tags: "the tagging API lags behind TagResource, so a difference it
    shows is confirmed before the plan acts on it" — done for updates (tags_to_confirm),
    not for renames. fw.yaml renamed to fw2.yaml, applied (TagResource rollouts:name=fw2);
    a plan while GetResources still answers with the old name tag plans the rename again
    (and again after each apply), instead of reading the job's tags one by one and
    showing no changes."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    original = IotApi.tagged_jobs
    snapshot: dict[str, Any] = {}

    def remember(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        answer = original(self, key, value)
        snapshot["index"] = answer
        return answer

    monkeypatch.setattr(IotApi, "tagged_jobs", remember)
    plan(root)  # the index as it was before the rename
    monkeypatch.setattr(IotApi, "tagged_jobs", lambda self, key, value: snapshot["index"])
    (root / "fw.yaml").rename(root / "fw2.yaml")
    apply(root)
    again = plan(root).plan
    assert again.changes == (), [(a.verb, a.job_id) for a in again.actions]


def test_two_projects__other_pins_and_adopts_our_running_job__we_never_create_a_duplicate(
        aws: None, tmp_path: Path) -> None:
    """Two projects in one account. Project acme runs fw (fw-<hash>, in its ledger).
    Project other pins that jobId in a manifest of its own (same content): its plan shows
    `@ adopt` and its apply retags the job rollouts:project=other — no note that the job
    belongs to project acme, which DESIGN.md says is never touched. Then acme's next plan
    creates the same revision again as fw-<hash>-2 (a second rollout of the same firmware
    to the same devices), silently, although acme's ledger records fw-<hash> as created
    and it is running: History.applied is skipped because AWS "holds" the id."""
    from engine.aws import Connection
    from engine.ledger import FileLedger
    from engine.workflow import plan_folder
    from tests.conftest import REGION, make_repo

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = repo_at(tmp_path / "a", {"fw.yaml": doc("1.0")})
    apply(ours)
    (job_id,) = jobs()
    theirs = make_repo(tmp_path / "b", {"x.yaml": doc("1.0", f"jobId: {job_id}\n")})
    (theirs / "_config.yaml").write_text(f"region: {REGION}\nproject: other\n")
    run = plan_folder(theirs, Connection(region=REGION, rate=0),
                      ledger_override=FileLedger(tmp_path / "other-ledger.json"))
    assert all(o.ok for o in apply_run(run))
    again = plan(ours).plan
    creates = [a.job_id for a in again.actions if a.verb in ("create", "replace")]
    assert creates == [], (creates, again.notes)
    assert list(jobs()) == [job_id]
