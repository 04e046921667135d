"""Carry out a plan: one handler per action type, independent actions concurrently.

Each action makes exactly the calls the plan showed (``Action.calls``). A failed action
does not stop the others; each action's outcome is reported, and a rerun finishes what is
left: every handler is safe to run again (a CreateJob that finds its own job, by project
and spec hash, counts as done; a CancelJob of a job already canceled too). The ledger gets
a record for every job created, adopted (a ``create`` whose reason is ``adopt``) and
canceled.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from typing_extensions import assert_never

from engine.actions import (
    Action,
    Adopt,
    Call,
    Cancel,
    Conflict,
    Create,
    Halt,
    Rename,
    Replace,
    Update,
)
from engine.aws import AlreadyExists, AwsError, IotApi
from engine.desired import DesiredJob
from engine.errors import RolloutsError
from engine.facts import (
    ACTIVE,
    CANCEL_REASON_CODE,
    CANCELED,
    TAG_CANCELED_BY,
    TAG_MUTABLE_HASH,
    TAG_PROJECT,
    TAG_SPEC_HASH,
)
from engine.ledger import Ledger, LedgerRecord
from engine.plan import Plan

APPLY_WORKERS = 8


@dataclass(frozen=True)
class Outcome:
    action: Action
    ok: bool
    message: str


@dataclass(frozen=True)
class Context:
    apis: dict[str, IotApi]  # by place: region, or ALIAS/REGION (``engine.accounts``)
    ledger: Ledger
    commit: str | None
    project: str
    account: str


class PartlyDone(AwsError):
    """Some calls of an action failed after others were made; the message says which."""

    def __init__(self, message: str) -> None:
        self.operation, self.aws_code = "", "PartlyDone"
        RolloutsError.__init__(self, message)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _created(ctx: Context, job: DesiredJob, job_id: str) -> LedgerRecord:
    return LedgerRecord("create", job_id, job.name, job.spec_hash, job.region, _now(),
                        project=job.project, account=job.account, commit=ctx.commit)


def record_missing(plan: Plan, ctx: Context) -> None:
    """Write the ledger records an earlier, interrupted apply did not get to write."""
    if plan.unrecorded:
        ctx.ledger.append([_created(ctx, u.job, u.job_id) for u in plan.unrecorded])


def _create(ctx: Context, job: DesiredJob, job_id: str, request: Call) -> str:
    api = ctx.apis[job.where]
    operation, params = request
    try:
        api.call(operation, **params)
        message = f"created {job_id}"
    except AlreadyExists:
        # A rerun, or a concurrent apply, got there first: this project's spec hash is done.
        described = api.describe_job(job_id)
        arn = (described or {}).get("job", {}).get("jobArn", "")
        tags = api.tags(arn) if arn else {}
        if tags.get(TAG_SPEC_HASH) != job.spec_hash or tags.get(TAG_PROJECT) != job.project:
            raise
        message = f"{job_id} already exists with this spec"
    ctx.ledger.append([_created(ctx, job, job_id)])
    return message


def _ended(api: IotApi, job_id: str) -> str | None:
    """The status of a job that is no longer active (it ended since the plan read it), or
    None where it is active or cannot be read."""
    try:
        job = (api.describe_job(job_id) or {}).get("job")
    except AwsError:
        return None
    status = None if job is None else job.get("status")
    return None if status is None or status in ACTIVE else str(status)


def _cancel(ctx: Context, where: str, calls: tuple[Call, ...], name: str,
            reason: str, spec_hash: str) -> str:
    """Mark, then cancel; a job found already canceled, or ended since the plan, counts as
    done (the cancel's goal, a job that no longer runs, holds)."""
    api = ctx.apis[where]
    tag, cancel = calls
    job_id = cancel[1]["jobId"]
    try:
        api.call(tag[0], **tag[1])
        api.call(cancel[0], **cancel[1])
    except AwsError:
        job = (api.describe_job(job_id) or {}).get("job")
        if job is None:
            raise
        status = job.get("status")
        if status != CANCELED or job.get("reasonCode") != CANCEL_REASON_CODE:
            # It ended otherwise, or a hand canceled it first: not the tool's cancel.
            with contextlib.suppress(AwsError):
                api.call("UntagResource", resourceArn=tag[1]["resourceArn"],
                         tagKeys=[TAG_CANCELED_BY])
            if status is None or status in ACTIVE:
                raise
            if status == CANCELED:
                return f"{job_id} was already canceled, not by this tool"
            return f"{job_id} had already ended ({status}): nothing to cancel"
    ctx.ledger.append([LedgerRecord("cancel", job_id, name, spec_hash, api.region, _now(),
                                    project=ctx.project, account=api.account(),
                                    commit=ctx.commit, reason=reason)])
    return f"canceled {job_id}"


def _replace(ctx: Context, action: Replace) -> str:
    """Cancel every old revision (each on its own: one that fails does not keep the others
    from being canceled), then create git's revision once none of them runs."""
    calls = action.calls()
    done: list[str] = []
    failed: list[AwsError] = []
    for i, old in enumerate(action.old):
        try:
            done.append(_cancel(ctx, action.where, calls[2 * i:2 * i + 2], action.name,
                                f"replace:{action.job_id}", old.spec_hash))
        except AwsError as exc:
            failed.append(exc)
    if len(failed) == 1 and not done:
        raise failed[0]
    if failed:
        raise PartlyDone("; ".join([*done, *map(str, failed),
                                    f"{action.job_id} not created while those run"]))
    return "; ".join([*done, _create(ctx, action.job, action.job_id, calls[-1])])


def _change(ctx: Context, action: Update | Rename | Adopt) -> str | None:
    """Make a change's calls; where UpdateJob fails because the job ended since the plan,
    the update is moot (a finished job is not updated): its tags are still set, but not
    the record of the fields sent. Returns what was left undone, or None."""
    api = ctx.apis[action.where]
    moot = None
    for operation, params in action.calls():
        if moot is not None and operation == "TagResource":
            params = {**params, "tags": [t for t in params["tags"]
                                         if t.get("Key") != TAG_MUTABLE_HASH]}
            if not params["tags"]:
                continue
        try:
            api.call(operation, **params)
        except AwsError:
            status = _ended(api, action.job_id) if operation == "UpdateJob" else None
            if status is None:
                raise
            moot = (f"{action.job_id} ended ({status}) before its update: not updated "
                    f"(a finished job is not updated)")
    return moot


def _run(api: IotApi, calls: tuple[Call, ...]) -> None:
    for operation, params in calls:
        api.call(operation, **params)


def execute(ctx: Context, action: Action) -> str:
    """Make the calls of one action; raises AwsError if one fails."""
    match action:
        case Create():
            return _create(ctx, action.job, action.job_id, action.calls()[-1])
        case Replace():
            return _replace(ctx, action)
        case Update() | Rename() | Adopt():
            moot = _change(ctx, action)
            if moot is not None:
                return moot
            if isinstance(action, Adopt):
                # From now on the job is a revision of the rollout: the ledger keeps it from
                # running again once AWS deletes or purges it, as for a job the tool made.
                ctx.ledger.append([replace(_created(ctx, action.job, action.job_id),
                                           reason="adopt")])
            count = len(action.diff)
            past = {"update": "updated", "rename": "renamed", "adopt": "adopted"}[action.verb]
            return f"{past} {action.job_id} ({count} field{'s' if count != 1 else ''})"
        case Cancel():
            return _cancel(ctx, action.where, action.calls(), action.name, action.reason,
                           action.target.spec_hash)
        case Halt():
            if not action.cancel:
                _run(ctx.apis[action.where], action.calls())
                return f"halted {action.job_id}: {action.reason}"
            canceled = _cancel(ctx, action.where, action.calls(), action.name,
                               action.cancel_reason, action.job.spec_hash)
            return f"halted: {canceled}"
        case Conflict():
            raise AssertionError("a plan with conflicts is never applied")
        case _:
            assert_never(action)


def apply_plan(plan: Plan, ctx: Context) -> list[Outcome]:
    """Run every change of ``plan``; the outcomes are in the plan's order. Each place
    (account, region) runs its actions with workers of its own, all places at once: each
    is paced by its own rate limits, so two places apply at twice one's rate."""

    stop = threading.Event()  # set when the apply is interrupted: start no more actions

    def run(action: Action) -> Outcome:
        if stop.is_set():
            return Outcome(action, False, "not started: the apply was interrupted")
        try:
            return Outcome(action, True, execute(ctx, action))
        except AwsError as exc:
            return Outcome(action, False, str(exc))
        except Exception as exc:  # an action's failure must not stop the others
            return Outcome(action, False, f"{type(exc).__name__}: {exc}")

    by_place: dict[str, list[Action]] = {}
    for action in plan.changes:
        by_place.setdefault(action.where, []).append(action)

    def run_place(actions: list[Action]) -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=APPLY_WORKERS) as pool:
            return list(pool.map(run, actions))

    with ThreadPoolExecutor(max_workers=max(1, len(by_place))) as places:
        try:
            done = {id(o.action): o for outcomes in places.map(run_place, by_place.values())
                    for o in outcomes}
        except BaseException:  # Ctrl-C: the actions under way finish (and are recorded)
            stop.set()
            raise
    return [done[id(action)] for action in plan.changes]
