"""What AWS IoT holds, read with as few calls as the diff allows (DESIGN.md section 5).

ListJobs pages say which jobs exist and their status. DescribeJob, ListTagsForResource and
GetJobDocument are called only where the plan needs them: active jobs the manifests name
(mutable fields and tags to compare), pinned ids (their immutable fields too), active
earlier revisions of a rollout (to confirm by tag before a replace cancels them) and,
with ``--prune``, active jobs whose rollout left the repository.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from engine.aws import IotApi
from engine.desired import DesiredJob
from engine.identity import name_of_derived

ACTIVE = frozenset({"IN_PROGRESS", "SCHEDULED"})
READ_WORKERS = 8


@dataclass(frozen=True)
class RemoteJob:
    """One job in AWS IoT: its summary, and the details read where the plan needed them."""

    job_id: str
    arn: str
    status: str
    last_updated: str
    detail: dict[str, Any] | None = None  # DescribeJob's job, with documentSource
    document: str | None = None
    tags: dict[str, str] | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fingerprint(self) -> str:
        return f"{self.status}@{self.last_updated}"


@dataclass(frozen=True)
class RemoteState:
    """The jobs of one region, by jobId."""

    region: str
    jobs: dict[str, RemoteJob] = field(default_factory=dict)

    def revisions(self, name: str) -> list[RemoteJob]:
        """Jobs whose derived id names this rollout (confirm by tag before acting)."""
        return [job for job in self.jobs.values() if name_of_derived(job.job_id) == name]


def _summary(raw: dict[str, Any]) -> RemoteJob:
    return RemoteJob(job_id=raw["jobId"], arn=raw["jobArn"], status=raw["status"],
                     last_updated=str(raw.get("lastUpdatedAt", "")))


def read_state(api: IotApi, desired: list[DesiredJob], *, prune: bool,
               tag_drift: bool = True) -> RemoteState:
    """The remote jobs of ``api``'s region, detailed where ``desired`` needs it.

    Without ``tag_drift``, the tags of active jobs are not read (one call less per active
    job): tags changed by hand in AWS then go unnoticed until the manifest's tags change.
    """
    summaries = {job.job_id: job for job in map(_summary, api.list_jobs())}
    wanted_ids = {d.job_id for d in desired}
    names = {d.name for d in desired}
    needs: dict[str, tuple[bool, bool, bool]] = {}  # jobId -> (describe, tags, document)
    for d in desired:
        job = summaries.get(d.job_id)
        if job is not None and job.active:
            needs[d.job_id] = (True, tag_drift, d.pinned)
        elif job is not None and d.pinned:
            needs[d.job_id] = (False, True, False)
    for job in summaries.values():
        name = name_of_derived(job.job_id)
        if not job.active or job.job_id in wanted_ids or name is None:
            continue
        if name in names:  # an earlier revision: its fields explain what a replace changes
            needs[job.job_id] = (True, True, True)
        elif prune:
            needs[job.job_id] = (False, True, False)

    def fetch(job_id: str) -> RemoteJob:
        describe, tags, document = needs[job_id]
        job = summaries[job_id]
        detail = None
        if describe:
            answer = api.describe_job(job_id)
            if answer is not None:
                detail = {**answer.get("job", {}), "documentSource": answer.get("documentSource")}
        return RemoteJob(job.job_id, job.arn, job.status, job.last_updated, detail,
                         api.job_document(job_id) if document else None,
                         api.tags(job.arn) if tags else None)

    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job in pool.map(fetch, sorted(needs)):
            summaries[job.job_id] = job
    return RemoteState(api.region, summaries)
