"""Factories for testing the pure plan: desired jobs from manifest text, remote jobs by hand.

No AWS: a remote job is what ``engine.remote`` would have read (ListJobs' summary, the tags,
and, where the rollout layer asked, DescribeJob's job and GetJobDocument's document).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.desired import DesiredJob, NoHashes, desire, desire_waves
from engine.facts import CANCEL_REASON_CODE, IN_PROGRESS, TAG_CANCELED_BY
from engine.history import History
from engine.ledger import LedgerRecord
from engine.plan import Plan, build_plan
from engine.remote import RemoteJob, RemoteState
from engine.rollouts import Region, group
from engine.validate import validate_folder

from .conftest import ACCOUNT, REGION, make_repo

PROJECT = "acme"
DAY = "2024-01-0{}T00:00:00+00:00"  # DAY.format(n): the n-th day, as ListJobs' createdAt


def desired_jobs(base: Path, files: dict[str, str]) -> list[DesiredJob]:
    """The desired jobs of a repository at ``base`` holding ``files`` (rollouts/...)."""
    base.mkdir(parents=True, exist_ok=True)
    root = make_repo(base, files)
    validation = validate_folder(root)
    assert validation.ok, validation.problems
    out: list[DesiredJob] = []
    for job in validation.jobs:
        how = desire_waves if "waves" in job.data else desire
        made = how(job, project=PROJECT, account=ACCOUNT, region=job.region or REGION,
                   commit=None, hashes=NoHashes())
        out += made if isinstance(made, list) else [made]
    return out


def arn(job_id: str, region: str = REGION) -> str:
    return f"arn:aws:iot:{region}:{ACCOUNT}:job/{job_id}"


def remote_job(job_id: str, *, status: str = IN_PROGRESS, tags: dict[str, str] | None = None,
               detail: dict[str, Any] | None = None, document: str | None = None,
               created_at: str = DAY.format(1), last_updated: str | None = None,
               region: str = REGION) -> RemoteJob:
    return RemoteJob(job_id=job_id, arn=arn(job_id, region), status=status,
                     last_updated=last_updated or created_at, created_at=created_at,
                     tags=tags, detail=detail, document=document)


def tags_of(d: DesiredJob, extra: dict[str, str] | None = None,
            drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The tags the tool wrote when it created ``d``'s job."""
    tags = {**d.tags, **d.creation_tags, **(extra or {})}
    return {k: v for k, v in tags.items() if k not in drop}


def detail_of(d: DesiredJob, job_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """DescribeJob's job for ``d``'s request (less the document), with ``fields`` over it
    (a None value leaves a field out)."""
    detail: dict[str, Any] = {"jobId": job_id or d.job_id,
                              "jobArn": arn(job_id or d.job_id, d.region),
                              "targetSelection": "SNAPSHOT", "documentSource": None}
    detail.update({k: v for k, v in d.request.items() if k != "document"})
    detail.update(fields)
    return {k: v for k, v in detail.items() if v is not None or k == "documentSource"}


def job_of(d: DesiredJob, job_id: str | None = None, *, status: str = IN_PROGRESS,
           created_at: str = DAY.format(1), tags: dict[str, str] | None = None,
           read: bool = True, **fields: Any) -> RemoteJob:
    """The job the tool made for ``d`` (its tags, and its details where ``read``)."""
    job_id = job_id or d.job_id
    if TAG_CANCELED_BY in (tags or {}):  # the tool cancels with a reasonCode of its own
        fields.setdefault("reasonCode", CANCEL_REASON_CODE)
    return remote_job(job_id, status=status, created_at=created_at,
                      tags=tags_of(d) if tags is None else tags,
                      detail=detail_of(d, job_id, **fields) if read else None,
                      document=d.request.get("document") if read else None,
                      region=d.region)


def remote_state(*jobs: RemoteJob, region: str = REGION,
                 notes: tuple[str, ...] = ()) -> RemoteState:
    return RemoteState(region, {j.job_id: j for j in jobs}, notes)


def region_of(desired: list[DesiredJob], *jobs: RemoteJob, region: str = REGION,
              scope: str = "", project: str = PROJECT) -> Region:
    return group(project, desired, remote_state(*jobs, region=region), scope)


def plan_of(desired: list[DesiredJob], *jobs: RemoteJob, history: History | None = None,
            prune: bool = False, now: datetime | None = None, scope: str = "",
            alarms: dict[str, str] | None = None) -> Plan:
    """The plan of one region (the default) holding ``jobs`` (and ``alarms``' states)."""
    region = region_of(desired, *jobs, scope=scope)
    if alarms is not None:
        region = replace(region, alarms=alarms)
    return build_plan(PROJECT, [region], history, prune=prune, now=now)


def record(event: str, d: DesiredJob, job_id: str | None = None, *,
           project: str | None = PROJECT, account: str | None = ACCOUNT,
           spec_hash: str | None = None, reason: str | None = None) -> LedgerRecord:
    return LedgerRecord(event=event, job_id=job_id or d.job_id, name=d.name,
                        spec_hash=spec_hash or d.spec_hash, region=d.region,
                        at="2024-01-01T00:00:00Z", project=project, account=account,
                        reason=reason)


def history(*records: LedgerRecord) -> History:
    return History.of(PROJECT, records)
