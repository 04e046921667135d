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
