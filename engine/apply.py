"""Carry out a plan: one handler per action type, independent actions concurrently.

A failed action does not stop the others; each action's outcome is reported, and a rerun
finishes what is left: every handler is safe to run again (a CreateJob that finds its own
job, by spec hash, counts as done; a CancelJob of a job already canceled too).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

from typing_extensions import assert_never

from engine.aws import AlreadyExists, AwsError, IotApi
from engine.desired import DesiredJob
from engine.identity import TAG_COMMIT, TAG_SOURCE, TAG_SPEC_HASH
from engine.ledger import Ledger, LedgerRecord
from engine.plan import Action, Cancel, Conflict, Create, Plan, Replace, Update

APPLY_WORKERS = 8


@dataclass(frozen=True)
class Outcome:
    action: Action
    ok: bool
    message: str


@dataclass(frozen=True)
class Context:
    apis: dict[str, IotApi]  # by region
    ledger: Ledger
    commit: str | None


def _ledger_record(ctx: Context, job: DesiredJob) -> LedgerRecord:
    return LedgerRecord(job.job_id, job.name, job.spec_hash, job.region,
                        datetime.now(timezone.utc).isoformat(timespec="seconds"), ctx.commit)


def _record(ctx: Context, job: DesiredJob) -> None:
    ctx.ledger.append([_ledger_record(ctx, job)])


def record_missing(plan: Plan, ctx: Context) -> None:
    """Write the ledger records an earlier, interrupted apply did not get to write."""
    if plan.unrecorded:
        ctx.ledger.append([_ledger_record(ctx, job) for job in plan.unrecorded])


def _create(ctx: Context, job: DesiredJob) -> str:
    api = ctx.apis[job.region]
    extra = {TAG_SOURCE: job.source}
    if ctx.commit:
        extra[TAG_COMMIT] = ctx.commit
    try:
        api.call("CreateJob", **job.create_request(extra))
        message = f"created {job.job_id}"
    except AlreadyExists:
        # A rerun, or a concurrent apply, got there first: the same spec hash means done.
        described = api.describe_job(job.job_id)
        arn = (described or {}).get("job", {}).get("jobArn", "")
        tags = api.tags(arn) if arn else {}
        if tags.get(TAG_SPEC_HASH) != job.spec_hash:
            raise
        message = f"{job.job_id} already exists with this spec"
    _record(ctx, job)
    return message


def _cancel(api: IotApi, job_id: str, comment: str) -> None:
    try:
        api.call("CancelJob", jobId=job_id, reasonCode="ROLLOUTS",
                 comment=comment[:2028])
    except AwsError as exc:
        described = api.describe_job(job_id)
        if described is None or described.get("job", {}).get("status") != "CANCELED":
            raise exc


def execute(ctx: Context, action: Action) -> str:
    """Make the calls of one action; raises AwsError if one fails."""
    match action:
        case Create():
            return _create(ctx, action.job)
        case Update():
            api = ctx.apis[action.job.region]
            if action.fields:
                api.call("UpdateJob", jobId=action.job.job_id, **action.fields)
            if action.set_tags:
                api.call("TagResource", resourceArn=action.arn,
                         tags=[{"Key": k, "Value": v} for k, v in action.set_tags.items()])
            if action.remove_tags:
                api.call("UntagResource", resourceArn=action.arn,
                         tagKeys=list(action.remove_tags))
            count = len(action.diff)
            return f"updated {action.job.job_id} ({count} field{'s' if count != 1 else ''})"
        case Replace():
            api = ctx.apis[action.job.region]
            for old in action.old_job_ids:
                _cancel(api, old, f"replaced by {action.job.job_id}")
            return f"canceled {', '.join(action.old_job_ids)}; " + _create(ctx, action.job)
        case Cancel():
            _cancel(ctx.apis[action.region], action.job_id,
                    f"{action.name} left the repository (--prune)")
            return f"canceled {action.job_id}"
        case Conflict():
            raise AssertionError("a plan with conflicts is never applied")
        case _:
            assert_never(action)


def apply_plan(plan: Plan, ctx: Context) -> list[Outcome]:
    """Run every change of ``plan``; the outcomes are in the plan's order."""

    def run(action: Action) -> Outcome:
        try:
            return Outcome(action, True, execute(ctx, action))
        except AwsError as exc:
            return Outcome(action, False, str(exc))
        except Exception as exc:  # an action's failure must not stop the others
            return Outcome(action, False, f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=APPLY_WORKERS) as pool:
        return list(pool.map(run, plan.changes))
