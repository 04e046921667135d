"""What AWS IoT holds, read in two steps with as few calls as the plan allows (DESIGN.md 5).

``list_region`` reads which jobs exist and their status (ListJobs), and the tags of this
project's jobs in bulk from the Resource Groups Tagging API (GetResources filtered by
``rollouts:project``, 100 jobs a call). Jobs that the bulk answer may miss (it lags behind
TagResource, and knows nothing of jobs made by the tool's first version, which carry no
project tag) are read one by one with ListTagsForResource: the jobIds the manifests pin or
derive, and jobs whose id has the form ``<name>-<8 hex>`` of a rollout in git. Where
GetResources is refused, every active job and every job the ledger names is read one by
one, and a note says so.

``read_details`` then calls DescribeJob and GetJobDocument only for the jobs the rollout
layer asks for (``engine.rollouts.details_needed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from engine.aws import AwsError, IotApi
from engine.facts import (
    ACTIVE,
    CANCEL_REASON_CODE,
    CANCELED,
    DELETION_IN_PROGRESS,
    TAG_CANCELED_BY,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SOURCE,
)
from engine.spec import immutable_spec, mutable_spec

READ_WORKERS = 8
# The form of ids the tool derives: a hint of which untagged-by-project jobs to read.
_DERIVED = re.compile(r"^(?P<name>[a-zA-Z0-9_-]+?)-[0-9a-f]{8}(-[0-9]+)?$")


@dataclass(frozen=True)
class RemoteJob:
    """One job in AWS IoT: its summary, and what was read of it where the plan needed it."""

    job_id: str
    arn: str
    status: str
    last_updated: str
    created_at: str = ""
    tags: dict[str, str] | None = None
    detail: dict[str, Any] | None = None  # DescribeJob's job, with documentSource
    document: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fingerprint(self) -> str:
        return f"{self.status}@{self.last_updated}"

    def tag(self, key: str) -> str | None:
        return (self.tags or {}).get(key)

    @property
    def project(self) -> str | None:
        return self.tag(TAG_PROJECT)

    @property
    def name(self) -> str | None:
        return self.tag(TAG_NAME)

    @property
    def source(self) -> str | None:
        return self.tag(TAG_SOURCE)

    @property
    def legacy(self) -> bool:
        """Made by the tool's first version: its name tag, but no project tag."""
        return self.name is not None and self.project is None

    @property
    def canceled_by_tool(self) -> bool:
        """Canceled by this tool (to make way for a later revision, or pruned), not by a hand
        or by its abort criteria: the tool marks what it cancels, and its first version
        gave CancelJob a reasonCode of its own."""
        if self.status not in (CANCELED, DELETION_IN_PROGRESS):
            return False
        reason = (self.detail or {}).get("reasonCode")
        if self.tag(TAG_CANCELED_BY):
            # The mark goes on just before CancelJob: an apply cut short between the two, or
            # a hand quicker than the apply, leaves it on a job the tool did not cancel.
            return self.detail is None or reason == CANCEL_REASON_CODE
        return self.legacy and reason == CANCEL_REASON_CODE

    @cached_property
    def spec(self) -> dict[str, Any] | None:
        """The normalised immutable part, once DescribeJob (and the document) was read."""
        if self.detail is None:
            return None
        return immutable_spec(self.detail, self.document)

    @cached_property
    def mutable(self) -> dict[str, Any]:
        return mutable_spec(self.detail or {})


@dataclass(frozen=True)
class RemoteState:
    """The jobs of one region, by jobId; tags read for this project's jobs and its hints."""

    region: str
    jobs: dict[str, RemoteJob] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    read_one_by_one: frozenset[str] = frozenset()  # jobs whose tags ListTagsForResource gave


def _summary(raw: dict[str, Any]) -> RemoteJob:
    return RemoteJob(job_id=raw["jobId"], arn=raw["jobArn"], status=raw["status"],
                     last_updated=str(raw.get("lastUpdatedAt", "")),
                     created_at=str(raw.get("createdAt", "")))


def list_region(api: IotApi, project: str, *, names: Iterable[str], ids: Iterable[str],
                known: Iterable[str] = ()) -> RemoteState:
    """Every job of ``api``'s region with its status, and the tags of this project's jobs.

    ``names`` are the rollouts git has in the region, ``ids`` the jobIds it pins or derives,
    ``known`` the jobIds the ledger holds for the project here.
    """
    summaries = {job.job_id: job for job in map(_summary, api.list_jobs())}
    by_arn = {job.arn: job for job in summaries.values()}
    notes: list[str] = []
    tags: dict[str, dict[str, str]] = {}
    try:
        for arn, found in api.tagged_jobs(TAG_PROJECT, project).items():
            if arn in by_arn:  # a job deleted since may linger in the tagging API
                tags[by_arn[arn].job_id] = found
        fallback: set[str] = set()
    except AwsError as exc:
        hint = ("; the role needs tag:GetResources (iam/plan-policy.json)"
                if "AccessDenied" in exc.aws_code else "")
        fallback = {job_id for job_id, job in summaries.items() if job.active} | set(known)
        notes.append(f"tags were read job by job because GetResources failed in "
                     f"{api.region}: {exc.aws_code}{hint}")
    wanted_names = set(names)
    hinted = {job_id for job_id in summaries
              if (m := _DERIVED.match(job_id)) and m.group("name") in wanted_names}
    # Running jobs the ledger names that the bulk answer left out: a job the tagging API has
    # not caught up with, or one the first version made under a jobId of its own.
    running = {job_id for job_id in known if job_id in summaries and summaries[job_id].active}
    unread = ((fallback | hinted | running | set(ids)) & set(summaries)) - set(tags)
    jobs = {job_id: replace(job, tags=tags.get(job_id)) for job_id, job in summaries.items()}
    return reread_tags(api, RemoteState(api.region, jobs, tuple(notes), frozenset(unread)),
                       unread)


def read_running_tags(api: IotApi, state: RemoteState) -> RemoteState:
    """``state`` with the tags of every running job whose tags were not read: before a plan
    creates a job, it makes sure no running job (the first version's, under a jobId of its
    own, or one the tagging API has not caught up with) already runs that revision."""
    return reread_tags(api, state, [job_id for job_id, job in state.jobs.items()
                                    if job.active and job.tags is None])


def reread_tags(api: IotApi, state: RemoteState, job_ids: Iterable[str]) -> RemoteState:
    """``state`` with the tags of ``job_ids`` read one by one: the tagging API lags behind
    TagResource, so a difference it shows is confirmed before the plan acts on it."""
    todo = sorted(set(job_ids) & set(state.jobs))
    if not todo:
        return state
    jobs = dict(state.jobs)
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job_id, tags in pool.map(lambda j: (j, api.tags(state.jobs[j].arn)), todo):
            jobs[job_id] = replace(jobs[job_id], tags=tags)
    return replace(state, jobs=jobs)


def read_details(api: IotApi, state: RemoteState,
                 needs: dict[str, bool]) -> RemoteState:
    """``state`` with DescribeJob read for each job of ``needs``, and GetJobDocument where
    its value is true."""

    def fetch(job_id: str) -> RemoteJob:
        job = state.jobs[job_id]
        answer = api.describe_job(job_id)
        detail = None
        if answer is not None:
            detail = {**answer.get("job", {}), "documentSource": answer.get("documentSource")}
        document = api.job_document(job_id) if needs[job_id] else None
        return replace(job, detail=detail, document=document)

    todo = sorted(job_id for job_id in needs if job_id in state.jobs)
    if not todo:
        return state
    jobs = dict(state.jobs)
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job in pool.map(fetch, todo):
            jobs[job.job_id] = job
    return replace(state, jobs=jobs)

