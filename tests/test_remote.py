"""Reading AWS IoT for a plan: the project's tags come in bulk from GetResources (filtered
by rollouts:project); a difference the bulk answer shows is confirmed job by job, and jobs
it misses or a refused bulk read fall back to ListTagsForResource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.actions import Update
from engine.aws import AwsError, Connection, IotApi
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.workflow import PlanRun, apply_run, plan_folder

from .conftest import ACCOUNT, REGION, make_repo

JOBS = 6


def _repo(base: Path, jobs: int = JOBS) -> Path:
    return make_repo(base, {f"r{i}.yaml": f"targets: [thing/d{i}]\ndocument: {{v: {i}}}\n"
                                          "tags: {team: fw}\n" for i in range(jobs)})


def _plan(root: Path) -> PlanRun:
    return plan_folder(root, Connection(region=REGION, rate=0),
                       ledger_override=FileLedger(root.parent / "ledger.json"))


def _applied(base: Path, jobs: int = JOBS) -> Path:
    root = _repo(base, jobs)
    assert all(outcome.ok for outcome in apply_run(_plan(root)))
    return root


def _arn(run: PlanRun, name: str) -> str:
    job_id = next(d.job_id for d in run.desired if d.name == name)
    return f"arn:aws:iot:{REGION}:{ACCOUNT}:job/{job_id}"


def test_plan__active_jobs_in_sync__tags_in_one_bulk_call(aws: None, tmp_path: Path,
                                                          calls: list[str]) -> None:
    root = _applied(tmp_path)
    calls.clear()
    run = _plan(root)
    assert run.plan.actions == ()
    assert calls.count("GetResources") == 1
    assert "ListTagsForResource" not in calls
    assert calls.count("DescribeJob") == JOBS


def test_plan__one_active_job__still_one_bulk_call_and_no_tag_read(aws: None, tmp_path: Path,
                                                                   calls: list[str]) -> None:
    root = _applied(tmp_path, jobs=1)
    calls.clear()
    assert _plan(root).plan.actions == ()
    assert calls.count("GetResources") == 1 and "ListTagsForResource" not in calls


def test_plan__bulk_read__filtered_by_this_project(aws: None, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = _applied(tmp_path, jobs=1)
    asked: list[tuple[str, str]] = []
    real = IotApi.tagged_jobs

    def spy(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        asked.append((key, value))
        return real(self, key, value)

    monkeypatch.setattr(IotApi, "tagged_jobs", spy)
    run = _plan(root)
    assert asked == [("rollouts:project", run.project)]


def test_plan__tag_changed_by_hand__read_job_by_job_and_put_back(aws: None, iot: Any,
                                                                  tmp_path: Path,
                                                                  calls: list[str]) -> None:
    root = _applied(tmp_path)
    arn = _arn(_plan(root), "r2")
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "ops"}])
    calls.clear()
    (update,) = _plan(root).plan.actions
    assert isinstance(update, Update) and update.set_tags == {"team": "fw"}
    assert calls.count("ListTagsForResource") == 1  # only the job the bulk answer flagged


def test_plan__stale_bulk_answer__the_job_is_read_and_nothing_changes(
        aws: None, tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _applied(tmp_path)
    arn = _arn(_plan(root), "r4")
    real = IotApi.tagged_jobs

    def lagging(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        found = real(self, key, value)
        found[arn] = {**found[arn], "team": "before-a-recent-change"}
        return found

    monkeypatch.setattr(IotApi, "tagged_jobs", lagging)
    calls.clear()
    assert _plan(root).plan.actions == ()
    assert calls.count("ListTagsForResource") == 1


@pytest.mark.parametrize("answer", ["denied", "throttled", "no jobs listed"])
def test_plan__bulk_tags_failed_or_empty__every_job_read_and_still_in_sync(
        aws: None, tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch,
        answer: str) -> None:
    root = _applied(tmp_path)

    def tagged_jobs(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        if answer == "denied":
            raise AwsError("GetResources", "AccessDeniedException", "not allowed")
        if answer == "throttled":
            raise AwsError("GetResources", "ThrottledException", "slow down")
        return {}

    monkeypatch.setattr(IotApi, "tagged_jobs", tagged_jobs)
    calls.clear()
    run = _plan(root)
    assert run.plan.actions == ()
    assert calls.count("ListTagsForResource") == JOBS
    said = [n for n in run.plan.notes if "GetResources failed" in n]
    assert len(said) == (answer != "no jobs listed")
    assert any("tag:GetResources" in n for n in said) == (answer == "denied")


# --- reads that follow the managed rollouts, not the account's history (DESIGN.md 5)


def _spy_list_jobs(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    asked: list[str | None] = []
    real = IotApi.list_jobs

    def spy(self: IotApi, status: str | None = None) -> Any:
        asked.append(status)
        return real(self, status)

    monkeypatch.setattr(IotApi, "list_jobs", spy)
    return asked


def test_plan__account_full_of_finished_jobs__lists_only_the_active_ones(
        aws: None, iot: Any, tmp_path: Path, calls: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = _applied(tmp_path)
    for i in range(300):  # another team's history: one ListJobs page of 250 would not hold it
        iot.create_job(jobId=f"history-{i}", document="{}",
                       targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/t{i}"])
        moto_jobs.set_job_status(f"history-{i}", "COMPLETED")
    asked = _spy_list_jobs(monkeypatch)
    calls.clear()
    assert _plan(root).plan.actions == ()
    assert sorted(asked, key=str) == ["IN_PROGRESS", "SCHEDULED"]
    assert calls.count("ListJobs") == 2


def test_plan__completed_job__read_once_then_known_from_the_ledger(
        aws: None, tmp_path: Path, calls: list[str]) -> None:
    root = _applied(tmp_path)
    done = _arn(_plan(root), "r1").rpartition("/")[2]
    moto_jobs.set_job_status(done, "COMPLETED")
    calls.clear()
    first = _plan(root)
    assert first.plan.actions == () and calls.count("DescribeJob") == JOBS
    assert [(r.event, r.job_id, r.status) for r in first.ended] == [("end", done, "COMPLETED")]
    assert apply_run(first) == []  # nothing to do; the end goes into the ledger
    calls.clear()
    again = _plan(root)
    assert again.plan.actions == () and again.ended == []
    assert calls.count("DescribeJob") == JOBS - 1  # the running ones only
    assert any(n.startswith("1 rollout(s) have completed") for n in again.plan.notes)


def test_plan__canceled_by_hand_end_in_the_ledger__not_re_created_and_says_so(
        aws: None, tmp_path: Path, calls: list[str]) -> None:
    root = _applied(tmp_path)
    stopped = _arn(_plan(root), "r3").rpartition("/")[2]
    moto_jobs.set_job_status(stopped, "CANCELED")
    apply_run(_plan(root))  # records how it ended
    calls.clear()
    run = _plan(root)
    assert run.plan.actions == ()
    assert calls.count("DescribeJob") == JOBS - 1  # the running ones only
    assert any(f"{stopped} is CANCELED, stopped by a hand" in n for n in run.plan.notes)


def test_plan__derived_id_held_by_a_finished_job_without_tags__created_as_its_next_life(
        aws: None, iot: Any, tmp_path: Path) -> None:
    root = _repo(tmp_path, jobs=1)
    derived = _plan(root).desired[0]
    iot.create_job(jobId=derived.job_id, document="{}",
                   targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/other"])
    moto_jobs.set_job_status(derived.job_id, "COMPLETED")
    (create,) = _plan(root).plan.actions
    assert create.job_id == derived.job_id_of_life(2)  # type: ignore[attr-defined]
    assert all(o.ok for o in apply_run(_plan(root)))
    assert _plan(root).plan.actions == ()


def test_plan__job_deleted_but_still_in_the_tag_index__already_applied_not_re_created(
        aws: None, tmp_path: Path) -> None:
    root = _applied(tmp_path)
    gone = _arn(_plan(root), "r5").rpartition("/")[2]
    moto_jobs.set_job_status(gone, "COMPLETED")
    del moto_jobs.backend().jobs[gone]  # AWS purged it; the tag index lags
    run = _plan(root)
    assert run.plan.actions == ()
    assert any(f"{gone} is in the ledger but gone from AWS" in n for n in run.plan.notes)


def test_plan__bulk_read_refused__ended_jobs_the_ledger_names_read_by_id_and_converges(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _applied(tmp_path)
    first = _plan(root)
    stopped, done = (_arn(first, n).rpartition("/")[2] for n in ("r1", "r2"))
    moto_jobs.set_job_status(stopped, "CANCELED")
    moto_jobs.set_job_status(done, "COMPLETED")

    def refused(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        raise AwsError("GetResources", "AccessDeniedException", "not allowed")

    monkeypatch.setattr(IotApi, "tagged_jobs", refused)
    run = _plan(root)
    assert run.plan.actions == ()
    assert any("GetResources failed" in n and "tag:GetResources" in n for n in run.plan.notes)
    assert any(f"{stopped} is CANCELED, stopped by a hand" in n for n in run.plan.notes)
    (root / "r9.yaml").write_text("targets: [thing/d9]\ndocument: {v: 9}\n")
    outcomes = apply_run(_plan(root))
    assert [type(o.action).__name__ for o in outcomes] == ["Create"]
    assert _plan(root).plan.actions == ()


def test_plan__new_job_not_yet_in_the_tag_index__read_by_id_and_not_created_twice(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _applied(tmp_path, jobs=2)
    (root / "new.yaml").write_text("targets: [thing/n]\ndocument: {v: n}\n")
    apply_run(_plan(root))
    new_arn = _arn(_plan(root), "new")
    real = IotApi.tagged_jobs

    def lagging(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        return {arn: tags for arn, tags in real(self, key, value).items() if arn != new_arn}

    monkeypatch.setattr(IotApi, "tagged_jobs", lagging)
    assert _plan(root).plan.actions == ()
