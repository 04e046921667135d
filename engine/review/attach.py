"""The review figures of a plan (DESIGN.md section 11): which targets they need counted,
and the plan with its figures once the counts are read. Pure: the counts come in as data.

Figures go to each create and replace (its request), each update, rename or adoption of an
active job (before: the job as AWS holds it; after: with UpdateJob's fields), and each wave
of a rollout the plan changes. They are informational: a saved plan holds its calls, not
its figures, so a count that moves between plan and apply never makes the plan stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from engine.actions import Action, Adopt, Create, Rename, Replace, Update
from engine.plan import Plan
from engine.remote import RemoteJob
from engine.review.figures import Review, TargetCount, action_key, figures, wave_key
from engine.rollouts import Region


def _requests(plan: Plan, jobs: Mapping[tuple[str, str], RemoteJob]
              ) -> Iterator[tuple[str, dict[str, Any] | None, dict[str, Any], RemoteJob | None]]:
    """(key, the request before or None, the request after, the job if it exists) of every
    change and wave the plan reviews."""
    for action in plan.actions:
        key = action_key(action.verb, action.region, action.job_id)
        if isinstance(action, Create | Replace):
            yield key, None, action.request, None
        elif isinstance(action, Update | Rename | Adopt):
            job = jobs.get((action.region, action.job_id))
            detail = job.detail if job is not None else None
            if detail is None or not job or not job.active:
                continue  # tags only, or a finished job: nothing it does changes
            # DescribeJob always names the targets; the manifest's are the same (immutable).
            known = {"targets": action.job.request.get("targets"), **detail}
            yield key, known, {**known, **action.fields}, job
    # The waves of a rollout that gets a new or changed job (not one that only halts).
    changed = {a.name for a in plan.actions if isinstance(a, Create | Replace | Update | Rename
                                                           | Adopt)}
    for step in plan.waves:
        if step.desired.name in changed:
            yield (wave_key(step.desired.region, step.desired.job_id), None,
                   step.desired.request, step.job)


def _jobs(regions: list[Region]) -> dict[tuple[str, str], RemoteJob]:
    return {(region.region, job.job_id): job for region in regions
            for rollout in region.rollouts for job in rollout.jobs}


def wanted(plan: Plan, regions: list[Region]) -> dict[str, set[str]]:
    """"ACCOUNT:REGION" -> the thing group ARNs there whose sizes the plan's figures need."""
    out: dict[str, set[str]] = {}
    for _, before, after, _ in _requests(plan, _jobs(regions)):
        for request in (before, after):
            for arn in (request or {}).get("targets") or []:
                if ":thinggroup/" in arn:
                    _, _, _, region, account, _ = arn.split(":", 5)
                    out.setdefault(f"{account}:{region}", set()).add(arn)
    return out


def reviewed(plan: Plan, regions: list[Region], counts: Mapping[str, TargetCount], *,
             now: datetime) -> Plan:
    """``plan`` with the figures of each change and wave, from the targets' ``counts`` (by
    ARN; a group absent is unknown) and the plan's clock ``now`` (naive UTC), when a job
    without a ``startTime`` starts."""
    reviews: dict[str, Review] = {}
    for key, before, after, job in _requests(plan, _jobs(regions)):
        start = _created(job) or now
        reviews[key] = Review(
            figures(after, counts, start=start),
            figures(before, counts, start=start) if before is not None else None)
    return replace(plan, reviews=reviews)


def review_of(plan: Plan, action: Action) -> Review | None:
    return plan.reviews.get(action_key(action.verb, action.region, action.job_id))


def _created(job: RemoteJob | None) -> datetime | None:
    """When a job was created (naive UTC), from its summary's createdAt."""
    if job is None or not job.created_at:
        return None
    try:
        moment = datetime.fromisoformat(job.created_at)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
