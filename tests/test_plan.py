"""The pure plan (``engine.rollouts.group`` + ``engine.plan.build_plan``) on hand-built remote
state: every branch of DESIGN.md section 3, with the exact notes and API calls. No AWS."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from engine.actions import (
    Adopt,
    Cancel,
    Conflict,
    Create,
    Rename,
    Replace,
    Update,
    main_request,
)
from engine.desired import DesiredJob
from engine.diff import FieldChange
from engine.facts import (
    CANCELED,
    COMPLETED,
    DELETION_IN_PROGRESS,
    SCHEDULED,
    TAG_CANCELED_BY,
    TAG_COMMIT,
    TAG_MUTABLE_HASH,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SOURCE,
    TAG_SPEC_HASH,
)
from engine.plan import Orphan, Plan, build_plan
from engine.remote import RemoteJob
from engine.rollouts import details_needed, group, tags_to_confirm

from .conftest import ACCOUNT, REGION
from .factories import (
    DAY,
    PROJECT,
    arn,
    desired_jobs,
    detail_of,
    history,
    job_of,
    plan_of,
    record,
    region_of,
    remote_job,
    remote_state,
    tags_of,
)

BASE = "targets: [thing/dev-1]\ndocument: {op: x}\n"
OTHER = "targets: [thing/dev-1]\ndocument: {op: y}\n"
THIRD = "targets: [thing/dev-1]\ndocument: {op: z}\n"
OTHER_REGION = "eu-central-1"
TEMPLATE = f"arn:aws:iot:{REGION}::jobtemplate/AWS-Run-Command:1.0"
RESTART = (f"targets: [thing/dev-1]\njobTemplateArn: {TEMPLATE}\n"
           "documentParameters: {command: 'systemctl,restart,camera'}\n")
ABORT = ("abortConfig:\n  criteriaList:\n    - {{failureType: FAILED, action: CANCEL, "
         "thresholdPercentage: {}, minNumberOfExecutedThings: 1}}\n")

A = TypeVar("A")
Want = Callable[..., DesiredJob]
WantAll = Callable[[dict[str, str]], list[DesiredJob]]


@pytest.fixture
def want(tmp_path: Path) -> Want:
    """``want(text, file="fw.yaml")``: git's revision of one rollout (each call a repository
    of its own, so two texts of one rollout are two revisions of it)."""
    count = itertools.count()

    def make(text: str = BASE, file: str = "fw.yaml") -> DesiredJob:
        (d,) = desired_jobs(tmp_path / f"repo{next(count)}", {file: text})
        return d

    return make


@pytest.fixture
def want_all(tmp_path: Path) -> WantAll:
    """``want_all({file: text})``: git's rollouts of one repository."""
    count = itertools.count()

    def make(files: dict[str, str]) -> list[DesiredJob]:
        return desired_jobs(tmp_path / f"many{next(count)}", files)

    return make


def tag_dict(tags: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


def only(plan: Plan, kind: type[A]) -> A:
    """The plan's one action, of type ``kind``."""
    assert len(plan.actions) == 1, plan.actions
    (action,) = plan.actions
    assert isinstance(action, kind), action
    return action


def cancels(plan: Plan) -> list[tuple[str, str]]:
    """The plan's actions, every one a cancel: (jobId, reason)."""
    assert all(isinstance(a, Cancel) for a in plan.actions), plan.actions
    return [(a.job_id, a.reason) for a in plan.actions if isinstance(a, Cancel)]


def h8(d: DesiredJob) -> str:
    return d.spec_hash[:8]


# --- create and in sync ------------------------------------------------------------------


def test_plan__no_job__creates_the_derived_id(want: Want) -> None:
    d = want(BASE + "tags: {team: fw}\n")
    plan = plan_of([d])
    create = only(plan, Create)
    assert create.job_id == d.job_id == f"fw-{h8(d)}"
    assert create.request == {"jobId": d.job_id, **d.request, "tags": create.request["tags"]}
    assert tag_dict(create.request["tags"]) == {
        "team": "fw", TAG_PROJECT: PROJECT, TAG_NAME: "fw", TAG_SPEC_HASH: d.spec_hash,
        TAG_SOURCE: "rollouts/fw.yaml",
        TAG_MUTABLE_HASH: d.mutable_hash}
    assert create.calls() == (("CreateJob", create.request),)
    assert (create.name, create.region, create.source) == ("fw", REGION, "rollouts/fw.yaml")
    assert plan.notes == () and plan.unchanged == () and plan.fingerprints == {}
    assert plan.has_changes and not plan.failed


def test_plan__in_sync__unchanged(want: Want) -> None:
    d = want(BASE + "description: first\ntags: {team: fw}\n")
    plan = plan_of([d], job_of(d))
    assert plan.actions == () and plan.notes == ()
    assert plan.unchanged == ("fw",)
    assert not plan.has_changes
    assert plan.fingerprints == {REGION: {d.job_id: f"IN_PROGRESS@{DAY.format(1)}"}}


def test_plan__scheduled_job_in_sync__unchanged(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d, status=SCHEDULED))
    assert plan.actions == () and plan.unchanged == ("fw",)


def test_plan__source_commit_and_aws_tags_differ__unchanged(want: Want) -> None:
    d = want()
    job = job_of(d, tags=tags_of(d, {TAG_SOURCE: "rollouts/old/fw.yaml", TAG_COMMIT: "abc",
                                     "aws:cloudformation:stack-name": "s"}))
    plan = plan_of([d], job)
    assert plan.actions == () and plan.unchanged == ("fw",)


# --- mutable edits -----------------------------------------------------------------------


def test_plan__description_edited__updates_in_place(want: Want) -> None:
    d = want(BASE + "description: second\n")
    plan = plan_of([d], job_of(d, description="first"))
    update = only(plan, Update)
    assert (update.job_id, update.target.arn) == (d.job_id, arn(d.job_id))
    assert update.fields == {"description": "second"}
    assert (update.set_tags, update.remove_tags) == ({TAG_MUTABLE_HASH: d.mutable_hash}, ())
    assert update.diff == (FieldChange("description", "first", "second"),)
    assert update.calls() == (
        ("UpdateJob", {"jobId": d.job_id, "description": "second"}),
        ("TagResource", {"resourceArn": arn(d.job_id),
                         "tags": [{"Key": TAG_MUTABLE_HASH, "Value": d.mutable_hash}]}))
    assert plan.unchanged == () and plan.notes == ()
    assert plan.summary()["update"] == 1


def test_plan__abort_threshold_changed__update_names_the_path(want: Want) -> None:
    old, d = want(BASE + ABORT.format(10)), want(BASE + ABORT.format(5))
    assert old.spec_hash == d.spec_hash  # a mutable field: the same revision
    plan = plan_of([d], job_of(d, abortConfig=old.request["abortConfig"]))
    update = only(plan, Update)
    assert update.fields == {"abortConfig": d.request["abortConfig"]}
    assert update.diff == (
        FieldChange("abortConfig.criteriaList[0].thresholdPercentage", 10, 5),)


def test_plan__numbers_and_expiry_restated_by_aws__unchanged(want: Want) -> None:
    d = want(BASE + ABORT.format(5) + "presignedUrlConfig: {roleArn: "
             f"'arn:aws:iam::{ACCOUNT}:role/r'}}\n")
    restated = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                  "thresholdPercentage": 5.0, "minNumberOfExecutedThings": 1}]}
    job = job_of(d, abortConfig=restated,
                 presignedUrlConfig={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                                     "expiresInSec": 3600})
    plan = plan_of([d], job)
    assert plan.actions == () and plan.unchanged == ("fw",) and plan.notes == ()


def test_plan__tags_drifted_by_hand__update_sets_and_removes_tags(want: Want) -> None:
    d = want(BASE + "tags: {team: fw}\n")
    job = job_of(d, tags=tags_of(d, {"team": "ops", "owner": "bob"}))
    update = only(plan_of([d], job), Update)
    assert update.fields == {}
    assert update.set_tags == {"team": "fw"}
    assert update.remove_tags == ("owner",)
    assert update.diff == (FieldChange("tags.owner", "bob", None),
                           FieldChange("tags.team", "ops", "fw"))
    assert update.calls() == (
        ("TagResource", {"resourceArn": arn(d.job_id),
                         "tags": [{"Key": "team", "Value": "fw"}]}),
        ("UntagResource", {"resourceArn": arn(d.job_id), "tagKeys": ["owner"]}),
    )


def test_plan__description_and_tag_changed__one_update_with_both(want: Want) -> None:
    d = want(BASE + "description: second\ntags: {team: fw}\n")
    job = job_of(d, description="first", tags=tags_of(d, drop=("team",)))
    update = only(plan_of([d], job), Update)
    assert update.diff == (FieldChange("description", "first", "second"),
                           FieldChange("tags.team", None, "fw"))
    assert [op for op, _ in update.calls()] == ["UpdateJob", "TagResource"]


def test_plan__mutable_field_left_manifest__note_and_no_change(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d, description="first"))
    assert plan.actions == ()
    assert plan.unchanged == ("fw",)
    assert plan.notes == (f"{d.job_id}: description left the manifest, but UpdateJob cannot "
                          "clear a field; it stays on the job until a new revision",)


def test_plan__field_cleared_and_another_edited__updates_only_the_edit(want: Want) -> None:
    d = want(BASE + "timeoutConfig: {inProgressTimeoutInMinutes: 30}\n")
    job = job_of(d, description="first", timeoutConfig={"inProgressTimeoutInMinutes": 60})
    plan = plan_of([d], job)
    update = only(plan, Update)
    assert update.fields == {"timeoutConfig": {"inProgressTimeoutInMinutes": 30}}
    assert update.diff == (FieldChange("timeoutConfig.inProgressTimeoutInMinutes", 60, 30),)
    assert plan.notes == (f"{d.job_id}: description left the manifest, but UpdateJob cannot "
                          "clear a field; it stays on the job until a new revision",)


# --- other revisions ---------------------------------------------------------------------


def test_plan__document_edited__replaces_the_old_revision(want: Want) -> None:
    old, d = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(old))
    replace = only(plan, Replace)
    assert replace.job_id == f"fw-{h8(d)}"
    assert replace.old_job_ids == (old.job_id,)
    assert replace.diff == (FieldChange("document.op", "x", "y"),)
    assert replace.request == d.create_request(replace.job_id)
    assert replace.calls() == (
        ("TagResource", {"resourceArn": arn(old.job_id),
                         "tags": [{"Key": TAG_CANCELED_BY, "Value": f"replace:{d.job_id}"}]}),
        ("CancelJob", {"jobId": old.job_id, "reasonCode": "ROLLOUTS",
                       "comment": f"replaced by {d.job_id}"}),
        ("CreateJob", replace.request),
    )
    assert plan.fingerprints == {REGION: {old.job_id: f"IN_PROGRESS@{DAY.format(1)}"}}
    assert plan.summary()["replace"] == 1


def test_plan__two_other_revisions_active__replace_cancels_both_diff_from_newest(
        want: Want) -> None:
    first, second, d = want(BASE), want(OTHER), want(THIRD)
    plan = plan_of([d], job_of(first, created_at=DAY.format(1)),
                   job_of(second, created_at=DAY.format(2)))
    replace = only(plan, Replace)
    assert set(replace.old_job_ids) == {first.job_id, second.job_id}
    assert replace.diff == (FieldChange("document.op", "y", "z"),)
    assert [op for op, _ in replace.calls()] == ["TagResource", "CancelJob", "TagResource",
                                                 "CancelJob", "CreateJob"]


def test_plan__other_revision_and_description_edited__diff_shows_both(want: Want) -> None:
    old, d = want(BASE + "description: first\n"), want(OTHER + "description: second\n")
    replace = only(plan_of([d], job_of(old)), Replace)
    assert replace.diff == (FieldChange("description", "first", "second"),
                            FieldChange("document.op", "x", "y"))


def test_plan__other_revision_unread__replace_without_diff(want: Want) -> None:
    old, d = want(BASE), want(OTHER)
    replace = only(plan_of([d], job_of(old, read=False)), Replace)
    assert replace.old_job_ids == (old.job_id,) and replace.diff == ()


def test_plan__git_revision_and_another_active__cancels_the_other(want: Want) -> None:
    old, d = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(old), job_of(d, created_at=DAY.format(2)))
    cancel = only(plan, Cancel)
    assert (cancel.name, cancel.job_id, cancel.region, cancel.source, cancel.reason) == (
        "fw", old.job_id, REGION, "rollouts/fw.yaml", f"replace:{d.job_id}")
    assert cancel.calls() == (
        ("TagResource", {"resourceArn": arn(old.job_id),
                         "tags": [{"Key": TAG_CANCELED_BY, "Value": f"replace:{d.job_id}"}]}),
        ("CancelJob", {"jobId": old.job_id, "reasonCode": "ROLLOUTS",
                       "comment": f"replaced by {d.job_id}"}),
    )
    assert plan.unchanged == ("fw",)
    assert set(plan.fingerprints[REGION]) == {old.job_id, d.job_id}


def test_plan__two_active_lives_of_git_revision__the_older_is_canceled(want: Want) -> None:
    d = want()
    second = d.job_id_of_life(2)
    plan = plan_of([d], job_of(d, created_at=DAY.format(1)),
                   job_of(d, second, created_at=DAY.format(2)))
    assert cancels(plan) == [(d.job_id, f"replace:{second}")]
    assert plan.unchanged == ("fw",)


# --- finished revisions ------------------------------------------------------------------


def _canceled_by_tool(d: DesiredJob, job_id: str | None = None, *, by: str,
                      day: int = 1) -> RemoteJob:
    return job_of(d, job_id, status=CANCELED, created_at=DAY.format(day),
                  tags=tags_of(d, {TAG_CANCELED_BY: by}))


def test_plan__revert_to_revision_canceled_by_tool__second_life_replaces(want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    plan = plan_of([d], _canceled_by_tool(d, by=f"replace:{newer.job_id}"),
                   job_of(newer, created_at=DAY.format(2)))
    replace = only(plan, Replace)
    assert replace.job_id == f"fw-{h8(d)}-2"
    assert replace.old_job_ids == (newer.job_id,)
    assert replace.diff == (FieldChange("document.op", "y", "x"),)
    assert replace.request["jobId"] == f"fw-{h8(d)}-2"
    assert plan.notes == (f"fw: git's revision was canceled by this tool before ({d.job_id}); "
                          f"it is rolled out again as fw-{h8(d)}-2",)


def test_plan__second_revert__third_life(want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    second = d.job_id_of_life(2)
    plan = plan_of([d], _canceled_by_tool(d, by=f"replace:{newer.job_id}", day=1),
                   _canceled_by_tool(d, second, by=f"replace:{newer.job_id}-2", day=3),
                   job_of(newer, created_at=DAY.format(4)))
    replace = only(plan, Replace)
    assert replace.job_id == f"fw-{h8(d)}-3"
    assert plan.notes == (f"fw: git's revision was canceled by this tool before ({second}, "
                          f"{d.job_id}); it is rolled out again as fw-{h8(d)}-3",)


def test_plan__revision_pruned_by_tool_comes_back__created_again(want: Want) -> None:
    d = want()
    plan = plan_of([d], _canceled_by_tool(d, by="prune"))
    create = only(plan, Create)
    assert create.job_id == d.job_id_of_life(2)
    assert plan.notes == (f"fw: git's revision was canceled by this tool before ({d.job_id}); "
                          f"it is rolled out again as {d.job_id_of_life(2)}",)


def test_plan__revert_to_completed_revision__unchanged_other_canceled_note(
        want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(d, status=COMPLETED),
                   job_of(newer, created_at=DAY.format(2)))
    assert cancels(plan) == [(newer.job_id, f"replace:{d.job_id}")]
    assert plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: git's revision ran before as {d.job_id} (COMPLETED) and is "
                          "not run again; add rerun: N to the manifest to roll it out again",)


def test_plan__completed_and_newest__counted_in_one_note(want_all: WantAll) -> None:
    a, b = want_all({"a.yaml": BASE, "b.yaml": OTHER})
    plan = plan_of([a, b], job_of(a, status=COMPLETED), job_of(b, status=COMPLETED))
    assert plan.actions == ()
    assert plan.unchanged == ("a", "b")
    assert plan.notes == ("2 rollout(s) have completed: edits to their manifests change "
                          "nothing until a new revision (a change to the document or targets, "
                          "or rerun: N)",)


def test_plan__completed_with_description_edited__unchanged(want: Want) -> None:
    d = want(BASE + "description: second\n")
    plan = plan_of([d], job_of(d, status=COMPLETED, description="first"))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert len(plan.notes) == 1 and plan.notes[0].startswith("1 rollout(s) have completed")


def test_plan__completed_then_newer_revision_stopped__note_names_rerun(want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(d, status=COMPLETED),
                   job_of(newer, status=CANCELED, created_at=DAY.format(2)))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: git's revision ran before as {d.job_id} (COMPLETED) and is "
                          "not run again; add rerun: N to the manifest to roll it out again",)


def test_plan__completed_life_older_than_another_life__note_names_rerun(
        want: Want) -> None:
    d = want()
    later = job_of(d, d.job_id_of_life(2), status=CANCELED, created_at=DAY.format(2))
    plan = plan_of([d], job_of(d, status=COMPLETED), later)
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: git's revision ran before as {d.job_id} (COMPLETED) and is "
                          "not run again; add rerun: N to the manifest to roll it out again",)


def test_plan__canceled_by_hand__not_recreated_note(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d, status=CANCELED))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: git's revision {d.job_id} is CANCELED, stopped by a hand or "
                          "by its abort criteria, and is not re-created; add rerun: N to the "
                          "manifest to roll it out again",)


def test_plan__canceled_by_hand_and_other_active__other_canceled(want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(d, status=CANCELED), job_of(newer, created_at=DAY.format(2)))
    assert cancels(plan) == [(newer.job_id, f"replace:{d.job_id}")]
    assert plan.unchanged == ("fw",)


def test_plan__deletion_in_progress__not_recreated_note(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d, status=DELETION_IN_PROGRESS))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: git's revision {d.job_id} is DELETION_IN_PROGRESS, stopped by "
                          "a hand or by its abort criteria, and is not re-created; add rerun: "
                          "N to the manifest to roll it out again",)


def test_plan__job_canceled_by_tool_being_deleted__rolled_out_again(want: Want) -> None:
    # DESIGN 3: a job the tool canceled (its rollouts:canceled-by mark) is rolled out again
    # when git returns to it; its deletion under way changes nothing of that.
    d, newer = want(BASE), want(OTHER)
    deleting = job_of(d, status=DELETION_IN_PROGRESS,
                      tags=tags_of(d, {TAG_CANCELED_BY: f"replace:{newer.job_id}"}))
    plan = plan_of([d], deleting, job_of(newer, created_at=DAY.format(2)))
    replace = only(plan, Replace)
    assert replace.job_id == d.job_id_of_life(2)
    assert replace.old_job_ids == (newer.job_id,)


def test_plan__rerun_added_after_completion__creates_new_revision(want: Want) -> None:
    done, d = want(BASE), want(BASE + "rerun: 1\n")
    assert d.spec_hash != done.spec_hash and d.rerun == 1
    plan = plan_of([d], job_of(done, status=COMPLETED))
    create = only(plan, Create)
    assert create.job_id == f"fw-{h8(d)}"
    assert "rerun" not in create.request  # the tool's own field: never sent


def test_plan__rerun_bumped_while_active__replaces(want: Want) -> None:
    old, d = want(BASE + "rerun: 1\n"), want(BASE + "rerun: 2\n")
    replace = only(plan_of([d], job_of(old)), Replace)
    assert replace.old_job_ids == (old.job_id,)
    # AWS keeps no rerun (the tool's own field, never sent): the old job shows none
    assert replace.diff == (FieldChange("rerun", None, 2),)


# --- pinned jobIds -----------------------------------------------------------------------


def test_plan__pinned_id_holds_other_content__conflict_names_fields(want: Want) -> None:
    theirs = want("jobId: fw-pinned\ntargets: [thing/dev-2]\ndocument: {op: x}\n")
    d = want("jobId: fw-pinned\n" + BASE)
    plan = plan_of([d], job_of(theirs, tags={}))
    conflict = only(plan, Conflict)
    assert (conflict.job_id, conflict.fields) == ("fw-pinned", ("targets",))
    prefix = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/"
    assert conflict.diff == (FieldChange("targets[0]", prefix + "dev-2", prefix + "dev-1"),)
    assert conflict.calls() == ()
    assert plan.failed and plan.changes == () and not plan.has_changes
    assert plan.summary()["conflict"] == 1
    assert plan.fingerprints == {REGION: {"fw-pinned": f"IN_PROGRESS@{DAY.format(1)}"}}


def test_plan__pinned_id_of_our_earlier_revision__conflict(want: Want) -> None:
    old, d = want("jobId: fw-pinned\n" + BASE), want("jobId: fw-pinned\n" + OTHER)
    conflict = only(plan_of([d], job_of(old, status=COMPLETED)), Conflict)
    assert conflict.fields == ("document",)
    assert conflict.diff == (FieldChange("document.op", "x", "y"),)


def test_plan__pinned_id_changed__replace_cancels_the_old_pinned_job(want: Want) -> None:
    old, d = want("jobId: fw-v1\n" + BASE), want("jobId: fw-v2\n" + BASE)
    replace = only(plan_of([d], job_of(old)), Replace)
    assert replace.job_id == "fw-v2"
    assert replace.old_job_ids == ("fw-v1",)


def test_plan__pinned_id_changed_and_the_old_id_in_the_ledger__still_a_replace(
        want: Want) -> None:
    old, d = want("jobId: fw-v1\n" + BASE), want("jobId: fw-v2\n" + BASE)
    plan = plan_of([d], job_of(old), history=history(record("create", old, "fw-v1")))
    replace = only(plan, Replace)
    assert (replace.job_id, replace.old_job_ids) == ("fw-v2", ("fw-v1",))
    assert not any("already applied" in n for n in plan.notes)


def test_plan__pinned_id_and_document_changed__replace(want: Want) -> None:
    old, d = want("jobId: fw-v1\n" + BASE), want("jobId: fw-v2\n" + OTHER)
    replace = only(plan_of([d], job_of(old)), Replace)
    assert (replace.job_id, replace.old_job_ids) == ("fw-v2", ("fw-v1",))
    assert replace.request["jobId"] == "fw-v2"


def test_plan__pinned_job_made_by_hand_same_content__adopted(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE + "tags: {team: fw}\n")
    plan = plan_of([d], job_of(d, tags={"team": "fw"}))
    adopt = only(plan, Adopt)
    assert adopt.job_id == "fw-pinned" and adopt.fields == {}
    expected = {TAG_PROJECT: PROJECT, TAG_NAME: "fw", TAG_SPEC_HASH: d.spec_hash}
    assert adopt.set_tags == expected and adopt.remove_tags == ()
    ((op, params),) = adopt.calls()
    assert (op, params["resourceArn"]) == ("TagResource", arn("fw-pinned"))
    assert tag_dict(params["tags"]) == expected
    assert plan.unrecorded == ()
    assert plan.summary()["adopt"] == 1


def test_plan__pinned_job_tags_unread_same_content__adopted(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    job = remote_job("fw-pinned", tags=None, detail=detail_of(d), document=d.request["document"])
    adopt = only(plan_of([d], job), Adopt)
    assert adopt.diff == ()
    assert adopt.set_tags == {TAG_PROJECT: PROJECT, TAG_NAME: "fw",
                              TAG_SPEC_HASH: d.spec_hash}


def test_plan__pinned_job_adopted_with_description_edit__update_fields(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE + "description: second\n")
    adopt = only(plan_of([d], job_of(d, tags={}, description="first")), Adopt)
    assert adopt.fields == {"description": "second"}
    assert [op for op, _ in adopt.calls()] == ["UpdateJob", "TagResource"]


def test_plan__pinned_job_of_other_project_same_content__conflict(want: Want) -> None:
    """A pinned jobId held by another project's job is a conflict, never adopted: projects
    never touch each other's jobs."""
    d = want("jobId: fw-pinned\n" + BASE)
    theirs = job_of(d, tags={TAG_PROJECT: "beta", TAG_NAME: "cam", TAG_SPEC_HASH: "0" * 64})
    plan = plan_of([d], theirs)
    conflict = only(plan, Conflict)
    assert conflict.fields == ("tags",)
    assert plan.failed
    assert any("project beta" in n for n in plan.notes), plan.notes


def test_plan__pinned_completed_job_made_by_hand__adopted_not_run_again(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    plan = plan_of([d], job_of(d, tags={}, status=COMPLETED))
    adopt = only(plan, Adopt)
    assert adopt.fields == {}
    assert adopt.set_tags == {TAG_PROJECT: PROJECT, TAG_NAME: "fw",
                              TAG_SPEC_HASH: d.spec_hash}


def test_plan__pinned_id_canceled_by_tool__note_one_life(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    plan = plan_of([d], _canceled_by_tool(d, by="prune"))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == ("fw: the pinned jobId fw-pinned was used before (canceled by this "
                          "tool, or deleted); a jobId has one life: change the jobId to roll "
                          "it out again",)


def test_plan__pinned_id_only_in_ledger__note_one_life(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    ledger = history(record("create", d), record("cancel", d, reason="prune"))
    plan = plan_of([d], history=ledger)
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == ("fw: the pinned jobId fw-pinned was used before (canceled by this "
                          "tool, or deleted); a jobId has one life: change the jobId to roll "
                          "it out again",)


def test_plan__pinned_id_used_before_and_other_active__other_canceled(want: Want) -> None:
    old, d = want(BASE), want("jobId: fw-pinned\n" + OTHER)
    plan = plan_of([d], _canceled_by_tool(d, by="prune"), job_of(old, created_at=DAY.format(2)))
    assert cancels(plan) == [(old.job_id, "replace:fw-pinned")]


# --- jobs of the first version (no project tag) ------------------------------------------


def _legacy(d: DesiredJob, job_id: str = "fw-1a2b3c4d", *, status: str = "IN_PROGRESS",
            day: int = 1, **fields: Any) -> RemoteJob:
    return job_of(d, job_id, status=status, created_at=DAY.format(day),
                  tags={TAG_NAME: d.name, TAG_SPEC_HASH: "1a2b3c4d"}, **fields)


def test_plan__first_version_job_same_content__adopted_not_replaced(want: Want) -> None:
    d = want(BASE + "tags: {team: fw}\n")
    plan = plan_of([d], _legacy(d))
    adopt = only(plan, Adopt)
    assert adopt.job_id == "fw-1a2b3c4d"
    assert adopt.set_tags == {"team": "fw", TAG_PROJECT: PROJECT, TAG_NAME: "fw",
                              TAG_SPEC_HASH: d.spec_hash}
    assert FieldChange(f"tags.{TAG_SPEC_HASH}", "1a2b3c4d", d.spec_hash) in adopt.diff
    assert plan.unrecorded == ()


def test_plan__first_version_job_restating_defaults__adopted(want: Want) -> None:
    d = want("targets: [thing/a, thing/b]\ndocument: {op: x, n: 5}\n")
    prefix = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/"
    job = _legacy(d, targets=[prefix + "b", prefix + "a"], schedulingConfig={},
                  destinationPackageVersions=[], targetSelection="SNAPSHOT")
    job = remote_job(job.job_id, tags=job.tags, detail=job.detail,
                     document='{ "op": "x", "n": 5 }')
    adopt = only(plan_of([d], job), Adopt)
    assert adopt.job_id == "fw-1a2b3c4d"


def test_plan__first_version_job_other_content_active__replaced(want: Want) -> None:
    old, d = want(BASE), want(OTHER)
    replace = only(plan_of([d], _legacy(old)), Replace)
    assert replace.job_id == d.job_id
    assert replace.old_job_ids == ("fw-1a2b3c4d",)
    assert replace.diff == (FieldChange("document.op", "x", "y"),)


def test_plan__first_version_cancel__rolled_out_again(want: Want) -> None:
    d = want()
    plan = plan_of([d], _legacy(d, status=CANCELED, reasonCode="ROLLOUTS"))
    create = only(plan, Create)
    assert create.job_id == d.job_id
    assert plan.notes == ("fw: git's revision was canceled by this tool before (fw-1a2b3c4d); "
                          f"it is rolled out again as {d.job_id}",)


def test_plan__first_version_job_canceled_by_hand__adopted_not_recreated(
        want: Want) -> None:
    d = want()
    plan = plan_of([d], _legacy(d, status=CANCELED, reasonCode="user"))
    adopt = only(plan, Adopt)  # its tags only: a finished job's fields are not touched
    assert adopt.job_id == "fw-1a2b3c4d" and adopt.fields == {}
    assert adopt.set_tags == {TAG_PROJECT: PROJECT, TAG_NAME: "fw", TAG_SPEC_HASH: d.spec_hash}
    assert plan.notes == ("fw: git's revision fw-1a2b3c4d is CANCELED, stopped by a hand or by "
                          "its abort criteria, and is not re-created; add rerun: N to the "
                          "manifest to roll it out again",)


def test_plan__first_version_stray__noted_never_pruned(want: Want) -> None:
    d, gone = want(), want(OTHER, file="gone.yaml")
    stray = _legacy(gone, "gone-1a2b3c4d")
    plan = plan_of([d], job_of(d), stray, prune=True)
    assert plan.actions == () and plan.orphans == ()
    assert plan.notes == (f"1 active job(s) in {REGION} made by an earlier version of the tool "
                          "(no rollouts:project tag) belong to no rollout in git: "
                          "gone-1a2b3c4d; they are never pruned: cancel them by hand, or add "
                          "their manifests",)


# --- renames -----------------------------------------------------------------------------


def test_plan__renamed__rename_retags_the_job(want: Want) -> None:
    old, d = want(BASE, file="fw.yaml"), want(BASE, file="firmware.yaml")
    assert old.spec_hash == d.spec_hash
    plan = plan_of([d], job_of(old))
    rename = only(plan, Rename)
    assert (rename.job_id, rename.old_name, rename.name) == (old.job_id, "fw", "firmware")
    assert rename.fields == {} and rename.remove_tags == ()
    assert rename.set_tags == {TAG_NAME: "firmware", TAG_PROJECT: PROJECT,
                               TAG_SPEC_HASH: d.spec_hash,
                               TAG_SOURCE: "rollouts/firmware.yaml"}
    assert rename.diff == (FieldChange(f"tags.{TAG_NAME}", "fw", "firmware"),)
    ((op, params),) = rename.calls()
    assert (op, params["resourceArn"]) == ("TagResource", arn(old.job_id))
    assert tag_dict(params["tags"]) == rename.set_tags
    assert plan.orphans == () and plan.notes == ()
    assert plan.summary()["rename"] == 1


def test_plan__renamed_and_description_edited__rename_with_update(want: Want) -> None:
    old = want(BASE + "description: first\n", file="fw.yaml")
    d = want(BASE + "description: second\n", file="firmware.yaml")
    rename = only(plan_of([d], job_of(old)), Rename)
    assert rename.fields == {"description": "second"}
    assert rename.calls()[0] == ("UpdateJob", {"jobId": old.job_id, "description": "second"})
    assert [op for op, _ in rename.calls()] == ["UpdateJob", "TagResource"]
    assert FieldChange("description", "first", "second") in rename.diff


def test_plan__renamed_after_it_completed__retagged_not_run_again(want: Want) -> None:
    old, d = want(BASE, file="fw.yaml"), want(BASE, file="firmware.yaml")
    plan = plan_of([d], job_of(old, status=COMPLETED))
    rename = only(plan, Rename)
    assert rename.job_id == old.job_id and rename.fields == {}
    assert [op for op, _ in rename.calls()] == ["TagResource"]
    assert plan.orphans == () and not any(isinstance(a, Create) for a in plan.actions)


def test_plan__renamed_back_to_a_name_whose_lives_the_tool_canceled__rename_not_a_new_life(
        want: Want) -> None:
    # fw ran as life 1 (canceled by the tool for a later revision), returned as life 2,
    # which was then renamed to "firmware"; now git names it fw again.
    d = want(BASE, file="fw.yaml")
    first = job_of(d, status=CANCELED, tags=tags_of(d, {TAG_CANCELED_BY: "replace:fw-other"}))
    second = job_of(d, d.job_id_of_life(2),
                    tags={**tags_of(d), TAG_NAME: "firmware",
                          TAG_SOURCE: "rollouts/firmware.yaml"})
    plan = plan_of([d], first, second)
    rename = only(plan, Rename)
    assert (rename.job_id, rename.old_name) == (d.job_id_of_life(2), "firmware")
    assert plan.orphans == ()


def test_plan__renamed_from_a_job_the_tool_pruned__created_again(want: Want) -> None:
    old, d = want(BASE, file="fw.yaml"), want(BASE, file="firmware.yaml")
    pruned = job_of(old, status=CANCELED, tags=tags_of(old, {TAG_CANCELED_BY: "prune"}))
    assert only(plan_of([d], pruned), Create).job_id == d.job_id


def test_plan__renamed_with_other_content__orphan_and_create(want: Want) -> None:
    old, d = want(BASE, file="fw.yaml"), want(OTHER, file="firmware.yaml")
    plan = plan_of([d], job_of(old))
    assert only(plan, Create).job_id == d.job_id
    assert plan.orphans == (Orphan("fw", old.job_id, REGION, "rollouts/fw.yaml"),)


# --- orphans and other projects ----------------------------------------------------------


def test_plan__orphan__listed_with_note(want: Want) -> None:
    d, gone = want(), want(OTHER, file="gone.yaml")
    plan = plan_of([d], job_of(d), job_of(gone))
    assert plan.actions == ()
    assert plan.orphans == (Orphan("gone", gone.job_id, REGION, "rollouts/gone.yaml"),)
    assert plan.notes == ("1 orphan(s): active jobs of this project whose rollout is not in "
                          "git; apply --prune (or prune: true in _config.yaml) cancels them",)
    assert plan.has_changes and plan.changes == ()
    assert plan.summary()["orphaned"] == 1
    assert gone.job_id not in plan.fingerprints[REGION]


def test_plan__orphan_with_prune__canceled(want: Want) -> None:
    d, gone = want(), want(OTHER, file="gone.yaml")
    plan = plan_of([d], job_of(d), job_of(gone), prune=True)
    cancel = only(plan, Cancel)
    assert (cancel.name, cancel.job_id, cancel.source, cancel.reason) == (
        "gone", gone.job_id, "rollouts/gone.yaml", "prune")
    assert cancel.calls() == (
        ("TagResource", {"resourceArn": arn(gone.job_id),
                         "tags": [{"Key": TAG_CANCELED_BY, "Value": "prune"}]}),
        ("CancelJob", {"jobId": gone.job_id, "reasonCode": "ROLLOUTS",
                       "comment": "gone left the repository (--prune)"}),
    )
    assert len(plan.orphans) == 1 and plan.notes == ()
    assert plan.fingerprints[REGION][gone.job_id] == f"IN_PROGRESS@{DAY.format(1)}"
    assert plan.summary()["cancel"] == 1


def test_plan__finished_job_of_deleted_manifest__not_an_orphan(want: Want) -> None:
    d, gone = want(), want(OTHER, file="gone.yaml")
    plan = plan_of([d], job_of(d), job_of(gone, status=COMPLETED), prune=True)
    assert plan.actions == () and plan.orphans == () and plan.notes == ()


def test_plan__orphan_outside_planned_scope__not_listed(want_all: WantAll) -> None:
    d, fw, ops = want_all({"fw/a.yaml": BASE, "ops/b.yaml": OTHER, "fw/c.yaml": THIRD})
    assert (d.name, fw.name, ops.name) == ("a", "c", "b")
    plan = plan_of([d], job_of(d), job_of(ops), job_of(fw), scope="rollouts/fw/",
                   prune=True)
    assert [o.job_id for o in plan.orphans] == [fw.job_id]
    assert cancels(plan) == [(fw.job_id, "prune")]


def test_plan__orphan_without_source_and_scoped_plan__not_listed(want_all: WantAll) -> None:
    d, gone = want_all({"fw/a.yaml": BASE, "fw/b.yaml": OTHER})
    unsourced = job_of(gone, tags=tags_of(gone, drop=(TAG_SOURCE,)))
    assert plan_of([d], unsourced, scope="rollouts/fw/").orphans == ()
    assert plan_of([d], unsourced).orphans == (Orphan("b", gone.job_id, REGION, None),)


def test_plan__other_projects_jobs__never_read_as_ours(want: Want) -> None:
    d, other = want(BASE), want(OTHER)
    beta = {TAG_PROJECT: "beta", TAG_NAME: "fw", TAG_SPEC_HASH: other.spec_hash}
    stray = {TAG_PROJECT: "beta", TAG_NAME: "cam", TAG_SPEC_HASH: d.spec_hash}
    plan = plan_of([d], job_of(other, tags=beta), job_of(other, "cam-1", tags=stray),
                   prune=True)
    create = only(plan, Create)
    assert create.job_id == d.job_id
    assert plan.orphans == () and plan.notes == ()


def test_plan__derived_id_held_by_other_project__our_create_takes_second_life(
        want: Want) -> None:
    d = want()
    theirs = job_of(d, tags={TAG_PROJECT: "beta", TAG_NAME: "fw",
                             TAG_SPEC_HASH: d.spec_hash})
    plan = plan_of([d], theirs)
    assert only(plan, Create).job_id == f"fw-{h8(d)}-2"
    assert plan.notes == (
        f"fw: the same revision runs (or ran) as fw-{h8(d)} of project beta; if these "
        "manifests are that project's, set project: beta in _config.yaml instead of rolling "
        "it out again",)


def test_plan__derived_id_held_by_untagged_job__our_create_takes_second_life(
        want: Want) -> None:
    d = want()
    assert only(plan_of([d], remote_job(d.job_id, tags={})), Create).job_id == \
        d.job_id_of_life(2)


# --- the ledger --------------------------------------------------------------------------


def test_plan__in_ledger_gone_from_aws__unchanged_note(want: Want) -> None:
    d = want()
    plan = plan_of([d], history=history(record("create", d)))
    assert plan.actions == () and plan.unchanged == ("fw",)
    assert plan.notes == (f"fw: {d.job_id} is in the ledger but gone from AWS: already "
                          "applied, not re-created (add rerun: N to roll it out again)",)


def test_plan__in_ledger_first_version_record__already_applied(want: Want) -> None:
    d = want()
    plan = plan_of([d], history=history(record("create", d, project=None, account=None)))
    assert plan.actions == () and plan.unchanged == ("fw",)


def test_plan__in_ledger_gone_and_other_revision_active__other_canceled(
        want: Want) -> None:
    d, newer = want(BASE), want(OTHER)
    plan = plan_of([d], job_of(newer), history=history(record("create", d)))
    assert cancels(plan) == [(newer.job_id, f"replace:{d.job_id}")]
    assert plan.unchanged == ("fw",)


def test_plan__ledger_cancel_record__created_again_with_next_life(want: Want) -> None:
    d = want()
    ledger = history(record("create", d), record("cancel", d, reason="prune"))
    plan = plan_of([d], history=ledger)
    assert only(plan, Create).job_id == d.job_id_of_life(2)
    assert plan.notes == ()


def test_plan__ledger_records_of_other_project__ignored(want: Want) -> None:
    d = want()
    plan = plan_of([d], history=history(record("create", d, project="beta")))
    assert only(plan, Create).job_id == d.job_id


def test_plan__ledger_record_of_other_account__not_applied_here(want: Want) -> None:
    d = want()
    plan = plan_of([d], history=history(record("create", d, account="999999999999")))
    assert isinstance(only(plan, Create), Create)


def test_plan__job_missing_from_ledger__unrecorded_and_note(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d), history=history())
    assert [(u.job.name, u.job_id) for u in plan.unrecorded] == [("fw", d.job_id)]
    assert plan.notes == (f"1 job(s) in AWS are missing from the ledger ({d.job_id}); apply "
                          "records them",)
    assert plan.actions == () and plan.unchanged == ("fw",)


def test_plan__recorded_job__not_unrecorded(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d), history=history(record("create", d)))
    assert plan.unrecorded == () and plan.notes == ()


def test_plan__six_jobs_missing_from_ledger__note_shows_five(want_all: WantAll) -> None:
    ds = want_all({f"r{i}.yaml": f"targets: [thing/dev-1]\ndocument: {{n: {i}}}\n"
                   for i in range(6)})
    plan = plan_of(ds, *[job_of(d) for d in ds], history=history())
    assert len(plan.unrecorded) == 6
    shown = ", ".join(d.job_id for d in ds[:5])
    assert plan.notes == (f"6 job(s) in AWS are missing from the ledger ({shown}, ...); "
                          "apply records them",)


def test_plan__no_ledger__nothing_unrecorded(want: Want) -> None:
    d = want()
    plan = plan_of([d], job_of(d), history=None)
    assert plan.unrecorded == () and plan.notes == ()


# --- the clock ---------------------------------------------------------------------------

SCHEDULED_JOB = BASE + "schedulingConfig: {startTime: '2024-06-01T10:00'}\n"


def test_plan__create_with_start_in_the_past__error(want: Want) -> None:
    d = want(SCHEDULED_JOB)
    plan = plan_of([d], now=datetime(2024, 7, 1))
    assert plan.errors == (f"{d.file}:{d.line}: fw: startTime 2024-06-01T10:00 must be at "
                           "least 30 minutes from now when the job is created",)
    assert plan.failed
    assert isinstance(only(plan, Create), Create)


def test_plan__create_with_start_more_than_a_year_ahead__error(want: Want) -> None:
    d = want(SCHEDULED_JOB)
    plan = plan_of([d], now=datetime(2023, 1, 1))
    assert plan.errors == (f"{d.file}:{d.line}: fw: startTime 2024-06-01T10:00 must be at "
                           "most 1 year from now when the job is created",)


def test_plan__existing_job_with_start_in_the_past__no_error(want: Want) -> None:
    d = want(SCHEDULED_JOB)
    plan = plan_of([d], job_of(d, status=SCHEDULED), now=datetime(2024, 7, 1))
    assert plan.errors == () and plan.unchanged == ("fw",)


def test_plan__create_without_clock__no_error(want: Want) -> None:
    plan = plan_of([want(SCHEDULED_JOB)])
    assert plan.errors == () and not plan.failed


def test_plan__create_with_start_ahead__no_error(want: Want) -> None:
    plan = plan_of([want(SCHEDULED_JOB)], now=datetime(2024, 5, 1))
    assert plan.errors == ()


# --- templates and the API's defaults ----------------------------------------------------


def test_plan__template_job_compared_without_expanded_document(want: Want) -> None:
    d = want("jobId: cam-restart\n" + RESTART)
    job = remote_job("cam-restart", tags={},
                     detail=detail_of(d, "cam-restart",
                                     documentSource="https://templates.s3/run-command.json"),
                     document='{"steps": ["systemctl restart camera"]}')
    adopt = only(plan_of([d], job), Adopt)
    assert adopt.job_id == "cam-restart"


def test_plan__template_job_other_parameters__conflict_names_only_them(want: Want) -> None:
    theirs = want("jobId: cam-restart\n" + RESTART.replace("camera", "radio"))
    d = want("jobId: cam-restart\n" + RESTART)
    job = remote_job("cam-restart", tags={}, detail=detail_of(theirs, "cam-restart"),
                     document='{"steps": ["systemctl restart radio"]}')
    conflict = only(plan_of([d], job), Conflict)
    assert conflict.fields == ("documentParameters",)


TWO = "targets: [thing/dev-1, thing/dev-2]\ndocument: {op: x}\n"
DEV_1 = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/dev-1"


@pytest.mark.parametrize("restated", [
    TWO + "targetSelection: SNAPSHOT\n",
    TWO + "schedulingConfig: {}\n",
    TWO + "destinationPackageVersions: []\n",
    TWO + "namespaceId: null\n",
    "targets: [thing/dev-2, thing/dev-1]\ndocument: {op: x}\n",
    f"targets: ['{DEV_1}', thing/dev-2]\ndocument: {{op: x}}\n",
    "targets: [thing/dev-1, thing/dev-2]\ndocument: '{\"op\":  \"x\"}'\n",
], ids=["targetSelection", "schedulingConfig", "packages", "null", "order", "arn", "json"])
def test_plan__api_defaults_restated__same_hash_unchanged(want: Want, restated: str) -> None:
    base, d = want(TWO), want(restated)
    assert d.spec_hash == base.spec_hash and d.job_id == base.job_id
    plan = plan_of([d], job_of(base))
    assert plan.actions == () and plan.unchanged == ("fw",)


def test_plan__targets_changed__new_revision(want: Want) -> None:
    assert want(BASE).spec_hash != want(BASE.replace("dev-1", "dev-2")).spec_hash


# --- many regions, the whole plan --------------------------------------------------------


def test_plan__each_region_planned_with_its_own_notes(want_all: WantAll) -> None:
    here, there = want_all({"a.yaml": BASE, "b.yaml": f"region: {OTHER_REGION}\n" + OTHER})
    assert there.region == OTHER_REGION
    west = group(PROJECT, [here, there], remote_state(job_of(here)))
    central = group(PROJECT, [here, there],
                    remote_state(region=OTHER_REGION, notes=("tags were read job by job",)))
    plan = build_plan(PROJECT, [west, central], None)
    assert [(a.name, a.region) for a in plan.actions] == [("b", OTHER_REGION)]
    assert plan.unchanged == ("a",)
    assert plan.notes == ("tags were read job by job",)


def test_plan__summary__counts_every_kind(want_all: WantAll, want: Want) -> None:
    ds = want_all({"new.yaml": "targets: [thing/n]\ndocument: {op: x}\n",
                   "edit.yaml": "targets: [thing/e]\ndocument: {op: x}\ndescription: b\n",
                   "same.yaml": "targets: [thing/s]\ndocument: {op: x}\n",
                   "doc.yaml": "targets: [thing/d]\ndocument: {op: y}\n",
                   "pin.yaml": "jobId: pin-1\ntargets: [thing/p]\ndocument: {op: x}\n"})
    by = {d.name: d for d in ds}
    new, edit, same, pin = by["new"], by["edit"], by["same"], by["pin"]
    old_doc = want("targets: [thing/d]\ndocument: {op: x}\n", file="doc.yaml")
    gone = want("targets: [thing/g]\ndocument: {op: x}\n", file="gone.yaml")
    plan = plan_of(ds, job_of(edit, description="a"), job_of(same), job_of(old_doc),
                   job_of(pin, tags={}), job_of(gone), prune=True)
    assert plan.summary() == {"create": 1, "update": 1, "replace": 1, "rename": 0,
                              "adopt": 1, "cancel": 1, "halt": 0, "orphaned": 1, "unchanged": 1,
                              "conflict": 0}
    assert {a.name for a in plan.actions} == {"new", "edit", "doc", "pin", "gone"}
    assert set(plan.fingerprints[REGION]) == {edit.job_id, same.job_id, old_doc.job_id,
                                              "pin-1", gone.job_id}
    assert new.job_id not in plan.fingerprints[REGION]
    assert by["doc"].job_id not in plan.fingerprints[REGION]


# --- details_needed ----------------------------------------------------------------------


def test_details_needed__pinned_job_unhashed__describe_and_document(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    region = region_of([d], remote_job("fw-pinned", tags={}))
    assert details_needed([region]) == {REGION: {"fw-pinned": True}}


def test_details_needed__pinned_template_job__describe_only(want: Want) -> None:
    d = want("jobId: cam-restart\n" + RESTART)
    region = region_of([d], remote_job("cam-restart", tags={}))
    assert details_needed([region]) == {REGION: {"cam-restart": False}}


def test_details_needed__first_version_job__describe_and_document(want: Want) -> None:
    d = want()
    region = region_of([d], remote_job("fw-1a2b3c4d", tags={TAG_NAME: "fw"}))
    assert details_needed([region]) == {REGION: {"fw-1a2b3c4d": True}}


def test_details_needed__git_revision_active__describe_only(want: Want) -> None:
    d = want()
    region = region_of([d], job_of(d, read=False))
    assert details_needed([region]) == {REGION: {d.job_id: False}}


def test_details_needed__git_revision_finished__nothing(want: Want) -> None:
    d = want()
    region = region_of([d], job_of(d, status=COMPLETED, read=False))
    assert details_needed([region]) == {REGION: {}}


def test_details_needed__other_revisions_active__newest_in_full(want: Want) -> None:
    first, second, d = want(BASE), want(OTHER), want(THIRD)
    region = region_of([d], job_of(first, read=False),
                       job_of(second, read=False, created_at=DAY.format(2)))
    assert details_needed([region]) == {REGION: {second.job_id: True}}


def test_details_needed__other_revision_beside_git_revision__only_git_revision(
        want: Want) -> None:
    old, d = want(BASE), want(OTHER)
    region = region_of([d], job_of(old, read=False), job_of(d, read=False))
    assert details_needed([region]) == {REGION: {d.job_id: False}}


def test_details_needed__pinned_job_of_other_revision__both_for_the_conflict(
        want: Want) -> None:
    old, d = want("jobId: fw-pinned\n" + BASE), want("jobId: fw-pinned\n" + OTHER)
    region = region_of([d], job_of(old, status=COMPLETED, read=False))
    assert details_needed([region]) == {REGION: {"fw-pinned": True}}


def test_details_needed__renamed_orphan__describe_only(want: Want) -> None:
    old, d = want(BASE, file="fw.yaml"), want(BASE, file="firmware.yaml")
    region = region_of([d], job_of(old, read=False))
    assert details_needed([region]) == {REGION: {old.job_id: False}}


def test_details_needed__already_read__nothing(want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    region = region_of([d], job_of(d, tags={}))
    assert details_needed([region]) == {REGION: {}}


def test_details_needed__described_without_document__document_still_needed(
        want: Want) -> None:
    d = want("jobId: fw-pinned\n" + BASE)
    job = remote_job("fw-pinned", tags={}, detail=detail_of(d))
    assert details_needed([region_of([d], job)]) == {REGION: {"fw-pinned": True}}


def test_details_needed__other_projects_and_orphans__nothing(want: Want) -> None:
    d, gone = want(), want(OTHER, file="gone.yaml")
    region = region_of([d], job_of(gone, read=False),
                       remote_job("x-1", tags={TAG_PROJECT: "beta", TAG_NAME: "fw"}))
    assert details_needed([region]) == {REGION: {}}


# --- tags_to_confirm and main_request ----------------------------------------------------


def test_tags_to_confirm__git_revision_tags_drifted__read_again(want: Want) -> None:
    d, other = want(BASE + "tags: {team: fw}\n"), want(OTHER, file="other.yaml")
    region = region_of([d, other], job_of(d, tags=tags_of(d, {"team": "ops"})),
                       job_of(other, tags=tags_of(other, {TAG_SOURCE: "moved.yaml"})))
    assert tags_to_confirm(region) == [d.job_id]


def test_tags_to_confirm__finished_or_in_sync__nothing(want: Want) -> None:
    d = want(BASE + "tags: {team: fw}\n")
    drifted = tags_of(d, {"team": "ops"})
    assert tags_to_confirm(region_of([d], job_of(d, status=COMPLETED, tags=drifted))) == []
    assert tags_to_confirm(region_of([d], job_of(d))) == []


def test_main_request__each_action__its_main_call(want: Want) -> None:
    old, d, gone = want(BASE + "description: a\n"), want(OTHER), want(THIRD, file="gone.yaml")
    create = only(plan_of([d]), Create)
    replace = only(plan_of([d], job_of(old)), Replace)
    cancel = next(a for a in plan_of([d], job_of(gone), prune=True).actions
                  if isinstance(a, Cancel))
    pinned = want("jobId: fw-pinned\n" + BASE)
    conflict = only(plan_of([pinned], remote_job("fw-pinned", tags={}, detail={"targets": []},
                                                 document="{}")), Conflict)
    update = only(plan_of([old], job_of(old, description="b")), Update)
    retag = only(plan_of([old], job_of(old, tags=tags_of(old, {"x": "y"}))), Update)
    assert main_request(create) == create.request
    assert main_request(replace) == replace.request
    assert main_request(cancel) == cancel.calls()[1][1]
    assert main_request(update) == {"jobId": old.job_id, "description": "a"}
    assert main_request(retag) == {"resourceArn": arn(old.job_id), "tagKeys": ["x"]}
    assert main_request(conflict) == {"jobId": "fw-pinned"}


def test_plan__completed_and_mutable_fields_edited_since__note_no_update(want: Want) -> None:
    ran, d = want(BASE + "description: first\n"), want(BASE + "description: second\n")
    job = job_of(d, status=COMPLETED, tags=tags_of(d, {TAG_MUTABLE_HASH: ran.mutable_hash}))
    plan = plan_of([d], job)
    assert plan.actions == ()
    assert f"fw: the manifest's mutable fields changed since {d.job_id} ran; a finished job is " \
           "not updated (add rerun: N to roll the rollout out again with them)" in plan.notes


def test_plan__completed_and_unedited__no_such_note(want: Want) -> None:
    d = want(BASE + "description: first\n")
    job = job_of(d, status=COMPLETED, tags=tags_of(d, {TAG_MUTABLE_HASH: d.mutable_hash}))
    assert not any("mutable fields changed" in n for n in plan_of([d], job).notes)


def test_plan__update_of_fields__records_the_mutable_hash_it_sends(want: Want) -> None:
    ran, d = want(BASE + "description: first\n"), want(BASE + "description: second\n")
    update = only(plan_of([d], job_of(ran)), Update)
    assert update.set_tags.get(TAG_MUTABLE_HASH) == d.mutable_hash
    assert not any(c.path.startswith("tags.") for c in update.diff)


def test_plan__marked_by_the_tool_but_canceled_by_a_hand__not_rolled_out_again(
        want: Want) -> None:
    # An apply cut short between the mark and CancelJob, then a hand canceled the job.
    v1, v2 = want(BASE), want(OTHER)
    marked = job_of(v1, status=CANCELED, tags=tags_of(v1, {TAG_CANCELED_BY: "replace:x"}),
                    reasonCode="operator")
    plan = plan_of([v1], marked, job_of(v2, created_at=DAY.format(2)))
    assert not any(isinstance(a, Create | Replace) for a in plan.actions)
    cancel = only(plan, Cancel)
    assert cancel.job_id == v2.job_id
    assert any("stopped by a hand" in n for n in plan.notes)


def test_details_needed__a_life_marked_as_the_tools_cancel__described_to_confirm(
        want: Want) -> None:
    d = want()
    marked = job_of(d, status=CANCELED, tags=tags_of(d, {TAG_CANCELED_BY: "prune"}),
                    read=False)
    needs = details_needed([region_of([d], marked)])
    assert needs == {REGION: {d.job_id: False}}


def test_plan__two_names_swapped__both_jobs_renamed_nothing_rolled_out_again(
        want_all: WantAll) -> None:
    before = want_all({"a.yaml": BASE, "b.yaml": OTHER})
    after = want_all({"a.yaml": OTHER, "b.yaml": BASE})
    plan = plan_of(after, *(job_of(d) for d in before))
    renames = sorted((a.name, a.job_id, a.old_name) for a in plan.actions
                     if isinstance(a, Rename))
    by_name = {d.name: d for d in before}
    assert renames == [("a", by_name["b"].job_id, "b"), ("b", by_name["a"].job_id, "a")]
    assert len(plan.actions) == 2 and plan.orphans == ()
