"""Lifecycle: a job that ends between plan and apply. The apply made of the earlier plan
ends as the next plan would: a cancel or an update of a finished job is moot, not a
failure."""

from __future__ import annotations

from pathlib import Path

from engine.actions import Replace
from engine.sandbox import moto_jobs
from engine.workflow import apply_run
from tests.test_lifecycle_attacks import apply, doc, jobs, plan, repo_at


def test_replace__old_revision_completes_between_plan_and_apply__new_revision_created(
        aws: None, tmp_path: Path) -> None:
    """The plan replaces fw 1.0 by 2.0; 1.0 completes before apply's CancelJob. The
    cancel's goal (1.0 not running) holds, so 2.0 is created and the apply succeeds."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (old,) = jobs()
    (root / "fw.yaml").write_text(doc("2.0"))
    run = plan(root)
    assert [a.verb for a in run.plan.actions] == ["replace"]
    moto_jobs.set_job_status(old, "COMPLETED")
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    assert "had already ended (COMPLETED)" in outcomes[0].message, outcomes[0].message
    assert sorted(jobs().values()) == ["COMPLETED", "IN_PROGRESS"], jobs()


def test_update__job_completes_between_plan_and_apply__update_moot_and_apply_succeeds(
        aws: None, tmp_path: Path) -> None:
    """A mutable edit plans `~ update`; the job completes before apply's UpdateJob. The
    apply succeeds and its outcome says the finished job was not updated, as the next
    plan would."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (job,) = jobs()
    (root / "fw.yaml").write_text(doc("1.0", "description: hello\n"))
    run = plan(root)
    assert [a.verb for a in run.plan.actions] == ["update"]
    moto_jobs.set_job_status(job, "COMPLETED")
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    assert "not updated" in outcomes[0].message, outcomes[0].message
    assert plan(root).plan.changes == ()


def test_replace_of_two_revisions__first_completes_before_apply__both_handled_then_created(
        aws: None, tmp_path: Path) -> None:
    """Two old revisions run (1.0 and 1.5) when git says 2.0; the first of them completes
    between plan and apply. The apply does not stop at it: the other is canceled, and 2.0
    is created."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (first,) = jobs()
    (root / "fw.yaml").write_text(doc("1.5"))
    apply(root)
    moto_jobs.set_job_status(first, "IN_PROGRESS")  # 1.0 runs again beside 1.5
    (root / "fw.yaml").write_text(doc("2.0"))
    run = plan(root)
    (replace,) = run.plan.actions
    assert isinstance(replace, Replace) and len(replace.old) == 2, run.plan.actions
    moto_jobs.set_job_status(replace.old[0].job_id, "COMPLETED")
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    statuses = jobs()
    assert statuses[replace.old[0].job_id] == "COMPLETED"
    assert statuses[replace.old[1].job_id] == "CANCELED"
    assert statuses[replace.job_id] == "IN_PROGRESS", statuses
