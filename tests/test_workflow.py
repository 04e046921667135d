"""Plan and apply end to end through the engine's public functions, against simulated AWS.

Each scenario of issue 3: creates then nothing to do; an update in place with its field
diff; a replace; a job canceled or deleted by hand is not re-created; prune; a pinned id
in conflict; a stale saved plan; concurrent applies; injected errors and throttling; and
no plan ever writes.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from engine.actions import Cancel, Conflict, Create, Replace, Update
from engine.aws import WRITE_OPERATIONS, AwsError, Connection, IotApi
from engine.errors import InvalidManifests
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.saved import StalePlan, check_saved, load_saved, save_plan
from engine.workflow import PlanRun, apply_run, plan_folder

from .conftest import REGION, make_repo

FW = """\
targets: [thinggroup/fleet]
document:
  operation: firmware-update
  version: 2.0.0
abortConfig:
  criteriaList:
    - failureType: FAILED
      action: CANCEL
      thresholdPercentage: 10
      minNumberOfExecutedThings: 5
tags:
  team: fw
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, {"fw.yaml": FW,
                                "ops.yaml": "targets: [thing/ops-1]\ndocument: {op: noop}\n"})


def plan(root: Path, *, prune: bool = False) -> PlanRun:
    ledger = FileLedger(root.parent / "ledger.json")
    return plan_folder(root, Connection(region=REGION, rate=0), prune=prune,
                       ledger_override=ledger)


def apply(root: Path, *, prune: bool = False) -> PlanRun:
    run = plan(root, prune=prune)
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    return run


def ledger_ids(root: Path) -> set[str]:
    return {r.job_id for r in FileLedger(root.parent / "ledger.json").records()
            if r.event == "create"}


def jobs() -> dict[str, str]:
    return {job_id: job.status for job_id, job in moto_jobs.backend().jobs.items()}


def test_fresh__all_creates_then_apply_then_no_changes(aws: None, repo: Path) -> None:
    first = plan(repo)
    assert [type(a) for a in first.plan.actions] == [Create, Create]
    apply(repo)
    assert sorted(jobs().values()) == ["IN_PROGRESS", "IN_PROGRESS"]
    again = plan(repo)
    assert again.plan.actions == () and sorted(again.plan.unchanged) == ["fw", "ops"]
    assert ledger_ids(repo) == set(jobs())


def test_created_job__carries_the_tools_tags(aws: None, repo: Path, iot: Any) -> None:
    apply(repo)
    (job_id,) = [j for j in jobs() if j.startswith("fw-")]
    arn = iot.describe_job(jobId=job_id)["job"]["jobArn"]
    tags = {t["Key"]: t["Value"] for t in iot.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags["rollouts:name"] == "fw" and tags["team"] == "fw"
    assert job_id == f"fw-{tags['rollouts:spec-hash'][:8]}"
    assert tags["rollouts:source"] == "rollouts/fw.yaml"


def test_abort_threshold_edited__update_in_place_with_field_diff(aws: None, repo: Path) -> None:
    apply(repo)
    (repo / "fw.yaml").write_text(FW.replace("thresholdPercentage: 10", "thresholdPercentage: 5"))
    run = plan(repo)
    (action,) = run.plan.actions
    assert isinstance(action, Update)
    assert [(c.path, c.before, c.after) for c in action.diff] == [
        ("abortConfig.criteriaList[0].thresholdPercentage", 10, 5)]
    apply(repo)
    assert plan(repo).plan.actions == ()
    assert len(jobs()) == 2


def test_document_edited__replace_cancels_old_and_creates_new(aws: None, repo: Path) -> None:
    apply(repo)
    old = next(j for j in jobs() if j.startswith("fw-"))
    (repo / "fw.yaml").write_text(FW.replace("version: 2.0.0", "version: 2.0.1"))
    run = plan(repo)
    (action,) = run.plan.actions
    assert isinstance(action, Replace) and action.old_job_ids == (old,)
    assert [(c.path, c.before, c.after) for c in action.diff] == [
        ("document.version", "2.0.0", "2.0.1")]
    apply(repo)
    states = jobs()
    assert states[old] == "CANCELED" and states[action.job.job_id] == "IN_PROGRESS"
    assert plan(repo).plan.actions == ()


def test_job_canceled_by_hand__is_not_re_created(aws: None, repo: Path) -> None:
    apply(repo)
    fw = next(j for j in jobs() if j.startswith("fw-"))
    moto_jobs.set_job_status(fw, "CANCELED")
    run = plan(repo)
    assert run.plan.actions == ()
    assert any(f"{fw} is CANCELED, stopped by a hand or by its abort criteria, and is not "
               "re-created" in n for n in run.plan.notes)


def test_job_deleted_by_hand_but_in_ledger__is_not_re_created(aws: None, repo: Path) -> None:
    apply(repo)
    fw = next(j for j in jobs() if j.startswith("fw-"))
    del moto_jobs.backend().jobs[fw]
    run = plan(repo)
    assert run.plan.actions == ()
    assert any(f"{fw} is in the ledger but gone from AWS" in n for n in run.plan.notes)


def test_manifest_removed__nothing_without_prune__cancel_with_it(aws: None, repo: Path) -> None:
    apply(repo)
    ops = next(j for j in jobs() if j.startswith("ops-"))
    (repo / "ops.yaml").unlink()
    listed = plan(repo).plan
    assert listed.actions == () and [o.job_id for o in listed.orphans] == [ops]
    assert listed.has_changes
    run = plan(repo, prune=True)
    (action,) = run.plan.actions
    assert isinstance(action, Cancel) and action.job_id == ops
    apply(repo, prune=True)
    assert jobs()[ops] == "CANCELED"


def test_prune__never_touches_jobs_without_the_tools_tags(aws: None, repo: Path,
                                                          iot: Any) -> None:
    iot.create_job(jobId="manual-0123abcd", targets=["arn:aws:iot:eu-west-1:123456789012:thing/x"],
                   document="{}")
    apply(repo)
    assert not [a for a in plan(repo, prune=True).plan.actions if isinstance(a, Cancel)]


def test_pinned_job_id_with_changed_document__conflict_and_no_write(aws: None, repo: Path,
                                                                    calls: list[str]) -> None:
    (repo / "fw.yaml").write_text("jobId: fw-pinned\n" + FW)
    apply(repo)
    (repo / "fw.yaml").write_text("jobId: fw-pinned\n" + FW.replace("2.0.0", "3.0.0"))
    calls.clear()
    run = plan(repo)
    (action,) = run.plan.actions
    assert isinstance(action, Conflict) and action.fields == ("document",)
    assert run.plan.failed
    assert apply_run(run) == []
    assert not set(calls) & WRITE_OPERATIONS


def test_stale_saved_plan__refused_and_nothing_written(aws: None, repo: Path, tmp_path: Path,
                                                      calls: list[str]) -> None:
    apply(repo)
    (repo / "fw.yaml").write_text(FW.replace("thresholdPercentage: 10", "thresholdPercentage: 5"))
    saved_path = tmp_path / "plan.json"
    save_plan(saved_path, repo, plan(repo).plan, prune=False)
    fw = next(j for j in jobs() if j.startswith("fw-"))
    moto_jobs.set_job_status(fw, "IN_PROGRESS")  # someone touched it: lastUpdatedAt moves
    calls.clear()
    with pytest.raises(StalePlan, match=fw):
        check_saved(load_saved(saved_path), plan(repo).plan)
    assert not set(calls) & WRITE_OPERATIONS


def test_saved_plan_applied_at_once__same_as_live(aws: None, repo: Path, tmp_path: Path) -> None:
    saved_path = tmp_path / "plan.json"
    save_plan(saved_path, repo, plan(repo).plan, prune=False)
    run = plan(repo)
    check_saved(load_saved(saved_path), run.plan)  # not stale
    assert all(o.ok for o in apply_run(run))
    assert plan(repo).plan.actions == ()


def test_two_applies_at_once__one_job_per_manifest(aws: None, repo: Path) -> None:
    runs = [plan(repo), plan(repo)]
    results: list[Any] = []
    threads = [threading.Thread(target=lambda r=r: results.append(apply_run(r))) for r in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(o.ok for outcomes in results for o in outcomes)
    assert len(jobs()) == 2
    assert plan(repo).plan.actions == ()


def test_plan__makes_no_write_call_in_any_state(aws: None, repo: Path, calls: list[str]) -> None:
    plan(repo)
    apply(repo)
    (repo / "fw.yaml").write_text(FW.replace("2.0.0", "2.1.0").replace("10", "7"))
    (repo / "ops.yaml").unlink()
    calls.clear()
    run = plan(repo, prune=True)
    assert {type(a) for a in run.plan.actions} == {Replace, Cancel}
    assert calls and not set(calls) & WRITE_OPERATIONS


def test_invalid_manifests__no_api_call_at_all(aws: None, repo: Path, calls: list[str]) -> None:
    (repo / "bad.yaml").write_text("targets: []\n")
    with pytest.raises(InvalidManifests):
        plan(repo)
    assert calls == []


class FlakyApi(IotApi):
    """Fails a seeded share of write calls, as a broken network or AWS would."""

    rng = random.Random(7)
    share = 0.4

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation in WRITE_OPERATIONS and self.rng.random() < self.share:
            raise AwsError(operation, "InternalFailure", "injected")
        return super().call(operation, **params)


def test_errors_injected__failed_actions_named__rerun_converges(
        aws: None, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(12):
        (repo / f"extra-{i}.yaml").write_text(f"targets: [thing/dev-{i}]\ndocument: {{n: {i}}}\n")
    monkeypatch.setattr("engine.workflow.IotApi", FlakyApi)
    failures = 0
    for _attempt in range(10):
        run = plan(repo)
        if not run.plan.actions:
            break
        outcomes = apply_run(run)
        failures += sum(not o.ok for o in outcomes)
        assert all(o.message for o in outcomes if not o.ok)
    assert failures > 0, "the injection should have failed something"
    assert plan(repo).plan.actions == ()
    assert len(jobs()) == 14 and set(jobs().values()) == {"IN_PROGRESS"}
    assert ledger_ids(repo) == set(jobs())


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def test_throttling_injected__run_succeeds(aws: None, repo: Path) -> None:
    rng = random.Random(3)
    throttled: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if "iot." in request.url and rng.random() < 0.2:
            throttled.append(request.url)
            body = b'{"message": "Rate exceeded"}'
            return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "ThrottlingException"},
                               _Raw(body))
        return None

    original_init = IotApi.__init__

    def init(self: IotApi, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.client.meta.events.register("before-send.iot", throttle)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(IotApi, "__init__", init)
        apply(repo)
        assert plan(repo).plan.actions == ()
    assert throttled, "the injection should have throttled something"
    assert len(jobs()) == 2


def test_target_in_another_region__refused_before_any_write(aws: None, repo: Path,
                                                             calls: list[str]) -> None:
    (repo / "far.yaml").write_text(
        "targets: ['arn:aws:iot:us-east-1:123456789012:thing/far']\ndocument: {}\n")
    with pytest.raises(InvalidManifests) as caught:
        plan(repo)
    (problem,) = caught.value.problems
    assert problem.path == "targets[0]" and "region us-east-1" in problem.message
    assert problem.file.endswith("far.yaml")
    assert not set(calls) & WRITE_OPERATIONS


def test_saved_plan__a_new_commit_alone_does_not_make_it_stale(
        aws: None, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved_path = tmp_path / "plan.json"
    monkeypatch.setattr("engine.workflow.git_commit", lambda _: "1" * 40)
    first = plan(repo)
    assert any(t["Key"] == "rollouts:commit" and t["Value"] == "1" * 40
               for t in first.plan.actions[0].calls()[0][1]["tags"])
    save_plan(saved_path, repo, first.plan, prune=False)
    monkeypatch.setattr("engine.workflow.git_commit", lambda _: "2" * 40)
    check_saved(load_saved(saved_path), plan(repo).plan)  # not stale


def test_list_jobs__follows_every_page(aws: None, iot: Any) -> None:
    for i in range(260):
        iot.create_job(jobId=f"j{i}", document="{}",
                       targets=["arn:aws:iot:eu-west-1:123456789012:thing/x"])
    api = IotApi(Connection(region=REGION, rate=0))
    assert len({job["jobId"] for job in api.list_jobs()}) == 260
    assert api.calls["ListJobs"] == 2  # 250 a page
