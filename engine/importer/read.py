"""What import reads of AWS IoT, with the fewest calls, all of them through ``IotApi``.

Per job: its tags (ListTagsForResource: whose job it is, and the team's tags to keep),
then, for a job to import, DescribeJob, then GetJobDocument for a job whose document is
its own (not from a template or an S3 source). ``--all`` first lists the active jobs with
ListJobs filtered by status, so the account's finished history is never paged through.
Jobs are read concurrently: each operation has its own rate limit, so the three reads
overlap and the import takes about as long as its most used operation alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from engine.aws import IotApi, NotFound
from engine.facts import IN_PROGRESS, SCHEDULED, TAG_NAME, TAG_PROJECT, partition
from engine.importer.manifest import FoundJob

READ_WORKERS = 16


@dataclass(frozen=True)
class Listed:
    """A job to read: its id and ARN."""

    job_id: str
    arn: str


@dataclass(frozen=True)
class Passed:
    """A job import leaves alone, and why."""

    job_id: str
    reason: str
    project: str | None = None  # the project whose tags it carries


def active_jobs(api: IotApi) -> list[Listed]:
    """Every job IN_PROGRESS or SCHEDULED in the region (ListJobs filtered by status)."""
    return [Listed(j["jobId"], j["jobArn"]) for status in (IN_PROGRESS, SCHEDULED)
            for j in api.jobs_in_status(status)]


def named_jobs(api: IotApi, job_ids: Iterable[str]) -> list[Listed]:
    """The jobs named, each with the ARN it has if it exists in this account and region."""
    prefix = f"arn:{partition(api.region)}:iot:{api.region}:{api.account()}:job/"
    return [Listed(job_id, prefix + job_id) for job_id in dict.fromkeys(job_ids)]


def read_jobs(api: IotApi, jobs: list[Listed], skip: Callable[[dict[str, str]], str | None]
              ) -> tuple[list[FoundJob], list[Passed], list[str]]:
    """Read ``jobs``: those to import, those ``skip`` turns away by their tags (it gives the
    reason, or None to import the job), and the ids AWS does not know."""

    def read(listed: Listed) -> FoundJob | Passed | str:
        try:
            tags = api.tags(listed.arn)
        except NotFound:
            return listed.job_id
        reason = skip(tags)
        if reason is not None:
            return Passed(listed.job_id, reason, tags.get(TAG_PROJECT))
        answer = api.describe_job(listed.job_id)
        if answer is None:
            return listed.job_id
        detail = dict(answer.get("job") or {})
        source = answer.get("documentSource") or None
        document = None
        if not detail.get("jobTemplateArn") and not source:
            document = api.job_document(listed.job_id)
            if document is None:  # deleted since DescribeJob
                return listed.job_id
        return FoundJob(listed.job_id, str(detail.get("jobArn") or listed.arn),
                        str(detail.get("status", "")), detail, source, document, tags)

    found: list[FoundJob] = []
    passed: list[Passed] = []
    unknown: list[str] = []
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for result in pool.map(read, jobs):
            if isinstance(result, FoundJob):
                found.append(result)
            elif isinstance(result, Passed):
                passed.append(result)
            else:
                unknown.append(result)
    return found, passed, unknown


def whose(tags: dict[str, str], project: str) -> str | None:
    """Why a job is the tool's already (its tags say so), or None."""
    owner = tags.get(TAG_PROJECT)
    if owner == project:
        return f"already managed by this project as rollout {tags.get(TAG_NAME, '?')}"
    if owner is not None:
        return f"a job of project {owner} (its {TAG_PROJECT} tag)"
    return None
