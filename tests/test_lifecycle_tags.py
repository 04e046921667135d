"""Lifecycle: plans made while the tag index (GetResources) lags behind TagResource
(DESIGN.md 5), and jobs whose tags another project wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.aws import IotApi
from engine.facts import TAG_PROJECT
from tests.conftest import REGION
from tests.test_lifecycle_attacks import apply, doc, jobs, plan, repo_at


def test_revert__tag_index_lags_behind_the_cancel_mark__git_revision_rolled_out_again(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.0 is replaced by 2.0 (marked, canceled with the tool's reasonCode, recorded in the
    ledger); a revert planned while the tag index still shows 1.0 without the mark knows
    the tool canceled it (its reasonCode, the ledger) and rolls 1.0 out again."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    original = IotApi.tagged_jobs
    snapshot: dict[str, Any] = {}

    def remember(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        answer = original(self, key, value)
        snapshot.setdefault("index", answer)
        return answer

    monkeypatch.setattr(IotApi, "tagged_jobs", remember)
    plan(root)  # the index as it was before the replace
    (root / "fw.yaml").write_text(doc("2.0"))
    apply(root)
    monkeypatch.setattr(IotApi, "tagged_jobs", lambda self, key, value: snapshot["index"])
    (root / "fw.yaml").write_text(doc("1.0"))
    run = plan(root)
    assert [a.verb for a in run.plan.actions] == ["replace"], (
        [(a.verb, a.job_id) for a in run.plan.actions], run.plan.notes)


def test_two_projects__other_pins_our_running_job__conflict_and_no_duplicate(
        aws: None, tmp_path: Path) -> None:
    """Project other pins the jobId of project acme's running job (same content): its
    plan is a conflict (another project's job is never adopted), and acme's next plan
    creates nothing."""
    from engine.aws import Connection
    from engine.ledger import FileLedger
    from engine.workflow import apply_run, plan_folder
    from tests.conftest import make_repo

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = repo_at(tmp_path / "a", {"fw.yaml": doc("1.0")})
    apply(ours)
    (job_id,) = jobs()
    theirs = make_repo(tmp_path / "b", {"x.yaml": doc("1.0", f"jobId: {job_id}\n")})
    (theirs / "_config.yaml").write_text(f"region: {REGION}\nproject: other\n")
    run = plan_folder(theirs, Connection(region=REGION, rate=0),
                      ledger_override=FileLedger(tmp_path / "other-ledger.json"))
    assert [a.verb for a in run.plan.actions] == ["conflict"], run.plan.actions
    assert run.plan.failed
    assert apply_run(run) == []
    again = plan(ours).plan
    creates = [a.job_id for a in again.actions if a.verb in ("create", "replace")]
    assert creates == [], (creates, again.notes)
    assert list(jobs()) == [job_id]


def test_job_of_ours_retagged_by_another_project__running__not_created_again(
        aws: None, tmp_path: Path) -> None:
    """A job the ledger says this project created, still running but now tagged as another
    project's, is not created a second time: the plan says why in a note."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (job_id,) = jobs()
    client = boto3.client("iot", region_name=REGION)
    arn = client.describe_job(jobId=job_id)["job"]["jobArn"]
    client.tag_resource(resourceArn=arn, tags=[{"Key": TAG_PROJECT, "Value": "other"}])
    again = plan(root).plan
    assert [(a.verb, a.job_id) for a in again.actions] == [], again.notes
    assert any(job_id in n and "not created again" in n for n in again.notes), again.notes
    assert list(jobs()) == [job_id]


def test_rename__tag_index_lags__second_plan_shows_no_changes(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fw.yaml renamed fw2.yaml and applied (the job retagged fw2); a plan while the tag
    index still shows the old name reads the job's tags one by one, as it does before an
    update, and shows no changes instead of the rename again."""
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
    assert again.unchanged == ("fw2",), again.unchanged
