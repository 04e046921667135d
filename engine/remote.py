"""What AWS IoT holds, read with as few calls as the plan allows (DESIGN.md 5).

A plan's reads follow the rollouts it manages, not the account's history (which may hold
100,000 finished jobs): ``list_region`` reads this project's jobs by tag in bulk (the
Resource Groups Tagging API's GetResources, filtered by ``rollouts:project``, 100 jobs a
call), then the active jobs of the region (ListJobs filtered by status, IN_PROGRESS and
SCHEDULED). A job of the project that the tag index holds and the active listing does not
has ended (it was tagged before the listing began, and a job never becomes active again):
its status is ``ENDED`` until an exact read, or the ledger's record of its end, says which
way. Tags of active jobs the bulk answer may miss (it lags behind TagResource, and knows
nothing of jobs made by the tool's first version, which carry no project tag) are read one
by one with ListTagsForResource: the jobIds the manifests pin or derive, the jobs the
ledger names, and jobs whose id has the form ``<name>-<8 hex>`` of a rollout in git.
Where GetResources is refused, every active job and every job the ledger names is read one
by one, and a note says so.

``probe`` reads jobs by id (DescribeJob, then their tags) where a plan needs to know
whether AWS holds an id (before creating it), and ``read_details`` calls DescribeJob and
GetJobDocument only for the jobs the rollout layer asks for
(``engine.rollouts.details_needed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
    ENDED,
    IN_PROGRESS,
    SCHEDULED,
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
    # DescribeJob's reasonCode as the ledger recorded the job's end ("" for none), where
    # the job was not described in this run; None where not known.
    reason_code: str | None = None
    # The ledger records the tool's cancel of this job (written once CancelJob succeeded,
    # which it also does on a job a hand canceled first).
    canceled_in_ledger: bool = False

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
        gave CancelJob a reasonCode of its own, which it still gives. The tag index lags
        behind the mark: the reasonCode read, or the ledger's record of the cancel, tell
        where it does not show it yet."""
        marked = self.tag(TAG_CANCELED_BY) is not None or self.canceled_in_ledger
        if self.status == ENDED:  # which way it ended is not read: the tool's marks tell
            return marked
        if self.status not in (CANCELED, DELETION_IN_PROGRESS):
            return False
        if self.end_unread:
            return marked
        # Read: the reasonCode decides. The mark goes on just before CancelJob (and a
        # CancelJob of a job canceled already succeeds): an apply cut short between the
        # two, or a hand quicker than the apply, leaves marks on a job the tool did not
        # cancel.
        reason = (self.detail or {}).get("reasonCode") if self.detail is not None \
            else self.reason_code
        return reason == CANCEL_REASON_CODE

    @property
    def end_unread(self) -> bool:
        """Neither described in this run nor its end in the ledger: how it ended (and who
        canceled it) is not known."""
        return self.detail is None and self.reason_code is None

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
    absent: frozenset[str] = frozenset()  # jobIds a probe found AWS does not hold
    account: str = ""  # the account read
    alias: str | None = None  # its alias under accounts:; None: the starting credentials'

    @property
    def where(self) -> str:
        """The key of the place read (``engine.accounts``): region, or ALIAS/REGION."""
        return self.region if self.alias is None else f"{self.alias}/{self.region}"


@dataclass(frozen=True)
class KnownEnd:
    """How a job ended, as the ledger recorded it when an earlier run read it: a finished
    job stays finished, so its status is not read again."""

    status: str
    created_at: str
    last_updated: str
    reason_code: str  # DescribeJob's reasonCode, "" for none


def _summary(raw: dict[str, Any]) -> RemoteJob:
    return RemoteJob(job_id=raw["jobId"], arn=raw["jobArn"], status=raw["status"],
                     last_updated=str(raw.get("lastUpdatedAt", "")),
                     created_at=str(raw.get("createdAt", "")))


def _job_id(arn: str) -> str | None:
    """The jobId of a job ARN (``arn:aws:iot:REGION:ACCOUNT:job/ID``)."""
    _, sep, job_id = arn.partition(":job/")
    return job_id if sep and job_id else None


def list_region(api: IotApi, project: str, *, names: Iterable[str], ids: Iterable[str],
                known: Iterable[str] = (), ends: Mapping[str, KnownEnd] | None = None,
                canceled: Iterable[str] = (), where: str = "") -> RemoteState:
    """The active jobs of ``api``'s region and this project's jobs, with their tags.

    ``names`` are the rollouts git has in the region, ``ids`` the jobIds it pins or derives,
    ``known`` the jobIds the ledger holds for the project here and ``ends`` how those of
    them that ended did so, ``canceled`` those the ledger says the tool canceled; ``where``
    names the place in notes (default: the region).
    """
    notes: list[str] = []
    # The tag index first, the active listing second: a job tagged before the listing began
    # and not active in it has ended (a job never becomes active again).
    tagged: dict[str, dict[str, str]] = {}
    try:
        tagged = api.tagged_jobs(TAG_PROJECT, project)
        refused = False
    except AwsError as exc:
        refused = True
        hint = ("; the role needs tag:GetResources (iam/plan-policy.json)"
                if "AccessDenied" in exc.aws_code else "")
        notes.append(f"tags were read job by job because GetResources failed in "
                     f"{where or api.region}: {exc.aws_code}{hint}")
    active = {job.job_id: job for status in (IN_PROGRESS, SCHEDULED)
              for job in map(_summary, api.list_jobs(status))}
    by_arn = {job.arn: job for job in active.values()}
    ends = ends or {}
    jobs: dict[str, RemoteJob] = {}
    for arn, tags in tagged.items():
        job = by_arn.get(arn)
        if job is None:
            job_id = _job_id(arn)
            if job_id is None:
                continue
            end = ends.get(job_id)
            job = RemoteJob(job_id, arn, ENDED, "") if end is None else RemoteJob(
                job_id, arn, end.status, end.last_updated, end.created_at,
                reason_code=end.reason_code)
        jobs[job.job_id] = replace(job, tags=tags)
    for job_id, job in active.items():
        jobs.setdefault(job_id, job)
    for job_id in set(canceled) & set(jobs):
        jobs[job_id] = replace(jobs[job_id], canceled_in_ledger=True)
    wanted_names = set(names)
    hinted = {job_id for job_id in active
              if (m := _DERIVED.match(job_id)) and m.group("name") in wanted_names}
    # Running jobs the ledger names that the bulk answer left out: a job the tagging API has
    # not caught up with, or one the first version made under a jobId of its own.
    fallback = set(active) if refused else set()
    unread = ((fallback | hinted | set(known) | set(ids)) & set(active)) - {
        job_id for job_id, job in jobs.items() if job.tags is not None}
    state = reread_tags(api, RemoteState(api.region, jobs, tuple(notes), frozenset(unread)),
                        unread)
    if refused:  # the project's ended jobs: those the ledger names, read one by one
        state = probe(api, state, known)
    return state


def probe(api: IotApi, state: RemoteState, job_ids: Iterable[str]) -> RemoteState:
    """``state`` with the jobs of ``job_ids`` it does not hold read by id: DescribeJob (an
    id AWS does not hold is remembered as absent), then the tags of each one found."""
    todo = sorted(set(job_ids) - set(state.jobs) - state.absent)
    if not todo:
        return state

    def fetch(job_id: str) -> tuple[str, RemoteJob | None]:
        answer = api.describe_job(job_id)
        if answer is None:
            return job_id, None
        raw = answer.get("job", {})
        arn = str(raw.get("jobArn", ""))
        job = RemoteJob(job_id, arn, str(raw.get("status", "")),
                        str(raw.get("lastUpdatedAt", "")), str(raw.get("createdAt", "")),
                        tags=api.tags(arn) if arn else {},
                        detail={**raw, "documentSource": answer.get("documentSource")})
        return job_id, job

    jobs, absent, read = dict(state.jobs), set(state.absent), set(state.read_one_by_one)
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job_id, job in pool.map(fetch, todo):
            if job is None:
                absent.add(job_id)
            else:
                jobs[job_id] = job
                read.add(job_id)
    return replace(state, jobs=jobs, absent=frozenset(absent), read_one_by_one=frozenset(read))


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

    def fetch(job_id: str) -> RemoteJob | str:
        job = state.jobs[job_id]
        answer = api.describe_job(job_id)
        if answer is None and job.status == ENDED:
            return job_id  # deleted since: the tag index still held it
        detail = None
        if answer is not None:
            detail = {**answer.get("job", {}), "documentSource": answer.get("documentSource")}
        document = api.job_document(job_id) if needs[job_id] else None
        job = replace(job, detail=detail, document=document)
        if detail is not None and job.status == ENDED:  # now read: which way it ended
            job = replace(job, status=str(detail.get("status", ENDED)),
                          created_at=str(detail.get("createdAt", "")),
                          last_updated=str(detail.get("lastUpdatedAt", "")))
        return job

    todo = sorted(job_id for job_id in needs if job_id in state.jobs)
    if not todo:
        return state
    jobs, absent = dict(state.jobs), set(state.absent)
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for job in pool.map(fetch, todo):
            if isinstance(job, str):
                del jobs[job]
                absent.add(job)
            else:
                jobs[job.job_id] = job
    return replace(state, jobs=jobs, absent=frozenset(absent))

