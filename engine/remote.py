"""What AWS IoT holds, read with as few calls as the diff allows (DESIGN.md section 5).

ListJobs pages say which jobs exist and their status. DescribeJob, ListTagsForResource and
GetJobDocument are called only where the plan needs them: active jobs the manifests name
(mutable fields and tags to compare), pinned ids (their immutable fields too), active
earlier revisions of a rollout (to confirm by tag before a replace cancels them) and,
with ``--prune``, active jobs whose rollout left the repository.

Tags to compare for drift come in bulk from the Resource Groups Tagging API (GetResources,
up to 100 jobs a call) when that costs fewer calls than one ListTagsForResource a job. That
API lags behind TagResource and may not list every job, so its answer is only trusted where
it matches the manifest; any other job is read with ListTagsForResource. Tags that decide a
write (an earlier revision to cancel, a job to prune) are always read job by job.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from engine.aws import TAGGING_PAGE_SIZE, AwsError, IotApi
from engine.desired import DesiredJob
from engine.identity import TAG_NAME, name_of_derived
from engine.normalize import compared_tags

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
    notes: tuple[str, ...] = ()

    def revisions(self, name: str) -> list[RemoteJob]:
        """Jobs whose derived id names this rollout (confirm by tag before acting)."""
        return [job for job in self.jobs.values() if name_of_derived(job.job_id) == name]


def _summary(raw: dict[str, Any]) -> RemoteJob:
    return RemoteJob(job_id=raw["jobId"], arn=raw["jobArn"], status=raw["status"],
                     last_updated=str(raw.get("lastUpdatedAt", "")))


def read_state(api: IotApi, desired: list[DesiredJob], *, prune: bool,
               tag_drift: bool = True) -> RemoteState:
    """The remote jobs of ``api``'s region, detailed where ``desired`` needs it.

    Without ``tag_drift``, the tags of active jobs are not read (neither in bulk nor job by
    job): tags changed by hand in AWS then go unnoticed until the manifest's tags change.
    """
    summaries = {job.job_id: job for job in map(_summary, api.list_jobs())}
    wanted = {d.job_id: d for d in desired}
    wanted_ids = set(wanted)
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

    drift = sum(1 for job_id, (_, tags, _) in needs.items() if tags and job_id in wanted)
    ours = sum(1 for job_id in summaries
               if job_id in wanted_ids or name_of_derived(job_id) in names)
    hints, notes = _bulk_tags(api, drift, ours)

    def read_tags(job: RemoteJob) -> dict[str, str]:
        hint, d = hints.get(job.arn), wanted.get(job.job_id)
        if hint is not None and d is not None and compared_tags(hint) == compared_tags(d.tags):
            return hint
        return api.tags(job.arn)

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
                         read_tags(job) if tags else None)

    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job in pool.map(fetch, sorted(needs)):
            summaries[job.job_id] = job
    return RemoteState(api.region, summaries, tuple(notes))


def _bulk_tags(api: IotApi, drift: int, ours: int
               ) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Tags of the tool's jobs by ARN from GetResources, where ``drift`` jobs to read one by
    one would take more calls than the pages ``ours`` jobs fill; and the notes to show."""
    if drift <= -(-ours // TAGGING_PAGE_SIZE):
        return {}, []
    try:
        return api.tagged_jobs(TAG_NAME), []
    except AwsError as exc:
        hint = ("; the role needs tag:GetResources (iam/plan-policy.json)"
                if "AccessDenied" in exc.aws_code else "")
        return {}, [f"tags were read job by job ({drift} calls) because GetResources failed "
                    f"in {api.region}: {exc.aws_code}{hint}"]
