"""Review (lifecycle): a ledger lost (or an apply cut short before it wrote its record),
then rebuilt from what plans read: a finished job is recorded only as an `end`."""

from __future__ import annotations

import json
from pathlib import Path

from engine.sandbox import moto_jobs
from engine.workflow import apply_run
from tests.conftest import REGION
from tests.test_lifecycle_attacks import apply, doc, jobs, plan, repo_at


def test_ledger_lost__finished_job_recorded_again__later_purge_does_not_run_it_again(
        aws: None, tmp_path: Path) -> None:
    """fw completes; the ledger file is lost (or the apply that created fw was killed
    before writing its `create`). The next apply writes what the plan read: an `end`
    record of fw, and no `create` (record_missing only records running jobs). History
    .applied counts only `create` records, so once AWS deletes or purges the finished
    job (730 days after it ended) the plan creates fw again: the completed firmware
    rolls out a second time, which the ledger exists to prevent (DESIGN.md 5)."""
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
