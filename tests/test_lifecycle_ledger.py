"""Lifecycle: what the ledger keeps of a finished job, and what later plans make of it
(DESIGN.md 5): a job that ran is never run again, and a finished job is read once."""

from __future__ import annotations

import json
from pathlib import Path

from engine.sandbox import moto_jobs
from engine.workflow import apply_run
from tests.conftest import REGION
from tests.test_lifecycle import Repo
from tests.test_lifecycle_attacks import apply, doc, jobs, plan, repo_at


def test_ledger_lost__finished_job_recorded_only_by_its_end__purge_does_not_run_it_again(
        aws: None, tmp_path: Path) -> None:
    """A job the ledger knows only by its `end` record (the ledger was lost, or the apply
    that created it was killed before writing its `create`) counts as applied: once AWS
    purges it, the plan does not roll the finished firmware out again."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (job_id,) = jobs()
    moto_jobs.set_job_status(job_id, "COMPLETED")
    (tmp_path / "ledger.json").unlink()  # lost
    run = plan(root)
    apply_run(run)  # records what it read: fw's end
    records = json.loads((tmp_path / "ledger.json").read_text())["records"]
    assert [(r["event"], r["jobId"]) for r in records] == [("end", job_id)], records
    backend = moto_jobs.backend(region=REGION)
    arn = backend.jobs.pop(job_id).job_arn  # purged by AWS: the job and its tags
    moto_jobs.job_tags(backend).pop(arn, None)
    again = plan(root).plan
    assert [a.job_id for a in again.actions] == [], (
        [(a.verb, a.job_id) for a in again.actions], again.notes)
    assert any("already applied" in n for n in again.notes), again.notes


def test_apply_with_no_changes__finished_job_read__end_record_written(
        server: str, tmp_path: Path) -> None:
    """An apply whose plan shows no change still writes the `end` record of a finished
    job the plan read (DescribeJob): the next plan knows how it ended without reading it."""
    repo = Repo(tmp_path, server, {"fw.yaml": doc("1.0")})
    repo.apply()
    (job_id,) = [j for j, s in jobs().items() if s == "IN_PROGRESS"]
    moto_jobs.set_job_status(job_id, "COMPLETED")
    repo.apply()
    records = json.loads((tmp_path / "ledger.json").read_text())["records"]
    assert [r["jobId"] for r in records if r["event"] == "end"] == [job_id], records
    data = repo.plan(exit=0)
    assert "DescribeJob" not in data["apiCalls"], data["apiCalls"]
