"""The AWS IoT Jobs behaviour moto 5.2 lacks, added in this one place (DESIGN.md section 6).

``install()`` patches moto's IoT request handlers so that, as on AWS:

- CreateJob refuses an existing jobId with ResourceAlreadyExistsException (moto replaces
  the job silently), and keeps ``tags``, ``namespaceId``, ``jobTemplateArn`` and
  ``destinationPackageVersions``; a job counts one execution per device, every thing
  group holding ``DEVICES_PER_GROUP`` things (moto counts one per job), all queued;
- CancelJob cancels the queued executions (those in progress too with ``force``);
- UpdateJob changes the mutable fields of an active job (moto has no UpdateJob);
- TagResource, UntagResource and ListTagsForResource work on job ARNs (moto has no job tags);
- ListJobs pages by ``maxResults`` (1 to 250) and ``nextToken`` and filters by ``status``
  and ``targetSelection`` (moto crashes past one page and ignores the filters);
- DescribeJob and GetJobDocument look a job up by id in constant time, and answer
  ResourceNotFoundException for an unknown one;
- the Resource Groups Tagging API's GetResources lists IoT jobs for
  ``ResourceTypeFilters=["iot:job"]``, filtered by ``TagFilters`` and paged by
  ``ResourcesPerPage`` (1 to 100, default 50) and ``PaginationToken`` (moto's tagging API
  knows no IoT jobs);
- thing group sizes (GetStatistics, ListThingsInThingGroup, dynamic groups): in
  ``moto_groups``, installed here.

``set_job_status`` lets tests and the sandbox move a job to IN_PROGRESS, COMPLETED or
CANCELED, as devices and AWS would; ``throttle`` refuses calls above a rate per operation with
ThrottlingException, as AWS does (benchmarks). The tests in
``tests/sandbox/test_moto_jobs.py`` check every request and response here against
botocore's shapes for the operation.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.iot.exceptions import (
    InvalidRequestException,
    IoTClientError,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from moto.iot.models import FakeJob, IoTBackend, iot_backends
from moto.iot.responses import IoTResponse
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

from engine.facts import ACTIVE, STATUSES

_EXTRA_FIELDS = ("namespaceId", "jobTemplateArn", "destinationPackageVersions")
_installed = False


def job_tags(backend: IoTBackend) -> dict[str, dict[str, str]]:
    """Tags of job ARNs, kept on the backend (one per account and region)."""
    store: dict[str, dict[str, str]] | None = getattr(backend, "_rollouts_tags", None)
    if store is None:
        store = {}
        backend._rollouts_tags = store  # type: ignore[attr-defined]
    return store


def _job(backend: IoTBackend, job_id: str) -> FakeJob:
    job = backend.jobs.get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Job {job_id} does not exist")
    return job


DEVICES_PER_GROUP = 40
_COUNTS = ("numberOfSucceededThings", "numberOfFailedThings", "numberOfRejectedThings",
           "numberOfTimedOutThings", "numberOfCanceledThings", "numberOfRemovedThings",
           "numberOfInProgressThings", "numberOfQueuedThings")


def fleet_size(job: FakeJob) -> int:
    """The devices a job targets: a thing group made in moto holds its things (and its
    child groups'), every other one ``DEVICES_PER_GROUP``."""
    from engine.sandbox.moto_groups import group_size

    b = backend(job.account_id, job.region_name)
    return sum(group_size(b, t.split(":thinggroup/", 1)[1]) if ":thinggroup/" in t else 1
               for t in job.targets)


def count_fleet(job: FakeJob) -> None:
    """Replace moto's counts (one queued execution per job, a group counted as one thing)
    by the job's fleet, every device queued; once per job (saved sandboxes of earlier
    versions hold jobs with moto's counts)."""
    if getattr(job, "_rollouts_simulated", False):
        return
    d: dict[str, Any] = job.job_process_details
    d.update(dict.fromkeys(_COUNTS, 0))
    d["numberOfQueuedThings"] = fleet_size(job)
    job._rollouts_simulated = True  # type: ignore[attr-defined]


def _create_job(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    job_id = self._get_param("jobId")
    if job_id in backend.jobs:
        existing = backend.jobs[job_id]
        raise ResourceAlreadyExistsException(f"Job {job_id} already exists", job_id,
                                             existing.job_arn)
    job_arn, job_id, description = backend.create_job(
        job_id=job_id,
        targets=self._get_param("targets"),
        description=self._get_param("description"),
        document_source=self._get_param("documentSource"),
        document=self._get_param("document"),
        presigned_url_config=self._get_param("presignedUrlConfig"),
        target_selection=self._get_param("targetSelection") or "SNAPSHOT",
        job_executions_rollout_config=self._get_param("jobExecutionsRolloutConfig"),
        document_parameters=self._get_param("documentParameters"),
        abort_config=self._get_param("abortConfig"),
        job_execution_retry_config=self._get_param("jobExecutionsRetryConfig"),
        scheduling_config=self._get_param("schedulingConfig"),
        timeout_config=self._get_param("timeoutConfig"),
    )
    job = backend.jobs[job_id]
    job.status = "SCHEDULED" if self._get_param("schedulingConfig") else "IN_PROGRESS"
    count_fleet(job)
    job._rollouts_extra = {k: self._get_param(k) for k in _EXTRA_FIELDS  # type: ignore[attr-defined]
                           if self._get_param(k) is not None}
    tags = self._get_param("tags") or []
    job_tags(backend)[job_arn] = {t["Key"]: t.get("Value", "") for t in tags}
    return ActionResult({"jobArn": job_arn, "jobId": job_id, "description": description})


def _update_job(self: IoTResponse) -> ActionResult:
    job = _job(self.iot_backend, self._get_param("jobId"))
    if job.status not in ACTIVE:
        raise InvalidRequestException(f"Job {job.job_id} is {job.status} and cannot be updated")
    fields = {
        "description": "description",
        "presignedUrlConfig": "presigned_url_config",
        "jobExecutionsRolloutConfig": "job_executions_rollout_config",
        "abortConfig": "abort_config",
        "timeoutConfig": "timeout_config",
        "jobExecutionsRetryConfig": "job_execution_retry_config",
    }
    for param, attribute in fields.items():
        value = self._get_param(param)
        if value is not None:
            setattr(job, attribute, value)
    job.last_updated_at = utcnow()
    return EmptyResult()


def _job_arn_tags(self: IoTResponse, arn: str) -> dict[str, str]:
    backend = self.iot_backend
    job_id = arn.rsplit("job/", 1)[-1] if ":job/" in arn else None
    if job_id is None or job_id not in backend.jobs:
        raise ResourceNotFoundException(f"No resource {arn}")
    return job_tags(backend).setdefault(arn, {})


def _tag_resource(self: IoTResponse) -> ActionResult:
    tags = _job_arn_tags(self, self._get_param("resourceArn"))
    for tag in self._get_param("tags") or []:
        tags[tag["Key"]] = tag.get("Value", "")
    return EmptyResult()


def _untag_resource(self: IoTResponse) -> ActionResult:
    tags = _job_arn_tags(self, self._get_param("resourceArn"))
    for key in self._get_param("tagKeys") or []:
        tags.pop(key, None)
    return EmptyResult()


def _list_tags_for_resource(self: IoTResponse) -> ActionResult:
    tags = _job_arn_tags(self, self._get_param("resourceArn"))
    return ActionResult({"tags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _summary(job: FakeJob) -> dict[str, Any]:
    return {
        "jobArn": job.job_arn,
        "jobId": job.job_id,
        "targetSelection": job.target_selection,
        "status": job.status,
        "isConcurrent": False,
        "createdAt": job.created_at,
        "lastUpdatedAt": job.last_updated_at,
        "completedAt": job.completed_at,
    }


def _list_jobs(self: IoTResponse) -> ActionResult:
    max_results = self._get_int_param("maxResults", 50)
    if not 1 <= max_results <= 250:
        raise InvalidRequestException("maxResults must be between 1 and 250")
    status = self._get_param("status")
    selection = self._get_param("targetSelection")
    jobs = [job for job in self.iot_backend.jobs.values()
            if (status is None or job.status == status)
            and (selection is None or job.target_selection == selection)]
    token = self._get_param("nextToken")
    start = int(token) if token and token.isdigit() else 0
    page = jobs[start:start + max_results]
    result: dict[str, Any] = {"jobs": [_summary(job) for job in page]}
    if start + max_results < len(jobs):
        result["nextToken"] = str(start + max_results)
    return ActionResult(result)


def _describe_job(self: IoTResponse) -> ActionResult:
    job = _job(self.iot_backend, self._get_param("jobId"))
    body: dict[str, Any] = {
        "jobArn": job.job_arn,
        "jobId": job.job_id,
        "targetSelection": job.target_selection,
        "status": job.status,
        "forceCanceled": job.force,
        "reasonCode": job.reason_code,
        "comment": job.comment,
        "targets": job.targets,
        "description": job.description,
        "presignedUrlConfig": job.presigned_url_config,
        "jobExecutionsRolloutConfig": job.job_executions_rollout_config,
        "abortConfig": job.abort_config,
        "createdAt": job.created_at,
        "lastUpdatedAt": job.last_updated_at,
        "completedAt": job.completed_at,
        "jobProcessDetails": {k: v for k, v in job.job_process_details.items()
                              if k != "processingTargets"},
        "timeoutConfig": job.timeout_config,
        "jobExecutionsRetryConfig": job.job_execution_retry_config,
        "documentParameters": job.document_parameters,
        "schedulingConfig": job.scheduling_config,
        **getattr(job, "_rollouts_extra", {}),
    }
    return ActionResult({"documentSource": job.document_source,
                         "job": {k: v for k, v in body.items() if v is not None}})


def _get_job_document(self: IoTResponse) -> ActionResult:
    job = _job(self.iot_backend, self._get_param("jobId"))
    return ActionResult({"document": job.document})


def _cancel_job(self: IoTResponse) -> ActionResult:
    job = _job(self.iot_backend, self._get_param("jobId"))
    if job.status in ("COMPLETED", "DELETION_IN_PROGRESS"):
        # CancelJob models InvalidRequestException for this, not moto's state-transition error.
        raise InvalidRequestException(f"Job {job.job_id} is {job.status} and cannot be canceled")
    if job.status == "CANCELED":  # canceled already: who canceled it, and why, stays
        return ActionResult({"jobArn": job.job_arn, "jobId": job.job_id,
                             "description": job.description})
    job.status = "CANCELED"
    cancel_executions(job, force=bool(self._get_param("force")))
    job.reason_code = self._get_param("reasonCode") or job.reason_code
    job.comment = self._get_param("comment") or job.comment
    job.last_updated_at = utcnow()
    return ActionResult({"jobArn": job.job_arn, "jobId": job.job_id,
                         "description": job.description})


def cancel_executions(job: FakeJob, *, force: bool) -> None:
    """What a canceled job does to its executions on AWS: queued ones are canceled, and
    those in progress too when the cancel is forced (else they finish as reported)."""
    d: dict[str, Any] = job.job_process_details
    moved = d.get("numberOfQueuedThings", 0) + (d.get("numberOfInProgressThings", 0)
                                                 if force else 0)
    d["numberOfCanceledThings"] = d.get("numberOfCanceledThings", 0) + moved
    d["numberOfQueuedThings"] = 0
    if force:
        d["numberOfInProgressThings"] = 0


def _get_resources(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    if self._get_param("ResourceTypeFilters", []) != ["iot:job"]:
        return _MOTO_GET_RESOURCES(self)
    per_page = self._get_int_param("ResourcesPerPage", 50)
    if not 1 <= per_page <= 100:
        raise ResourceGroupsTaggingAPIError("InvalidParameterException",
                                            "ResourcesPerPage must be between 1 and 100")
    filters = self._get_param("TagFilters", [])

    def matches(tags: dict[str, str]) -> bool:
        return all(f["Key"] in tags and (not f.get("Values") or tags[f["Key"]] in f["Values"])
                   for f in filters)

    store = job_tags(iot_backends[self.current_account][self.region])
    jobs = [(arn, tags) for arn, tags in store.items() if tags and matches(tags)]
    token = self._get_param("PaginationToken") or ""
    start = int(token) if token.isdigit() else 0
    page = jobs[start:start + per_page]
    more = start + per_page < len(jobs)
    return ActionResult({
        "ResourceTagMappingList": [
            {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            for arn, tags in page],
        "PaginationToken": str(start + per_page) if more else ""})


_MOTO_GET_RESOURCES = ResourceGroupsTaggingAPIResponse.get_resources

_HANDLERS = {
    "create_job": _create_job,
    "update_job": _update_job,
    "tag_resource": _tag_resource,
    "untag_resource": _untag_resource,
    "list_tags_for_resource": _list_tags_for_resource,
    "list_jobs": _list_jobs,
    "describe_job": _describe_job,
    "get_job_document": _get_job_document,
    "cancel_job": _cancel_job,
}


class _Throttle:
    """AWS's per-operation rate limit, for benchmarks: a token bucket per operation of each
    account and region (AWS limits each account and region on its own)."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.lock = threading.Lock()
        # "account/region/operation" -> (tokens, time)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.refused = 0

    def admit(self, operation: str) -> None:
        if self.rate is None:
            return
        with self.lock:
            now = time.monotonic()
            tokens, last = self.buckets.get(operation, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[operation] = (tokens, now)
                self.refused += 1
                error = IoTClientError("ThrottlingException", "Rate exceeded")
                error.code = 429
                raise error
            self.buckets[operation] = (tokens - 1, now)


THROTTLE = _Throttle()


def throttle(rate: float | None) -> None:
    """Refuse calls above ``rate`` a second per operation, account and region with
    ThrottlingException (None: off)."""
    THROTTLE.rate = rate
    THROTTLE.buckets.clear()
    THROTTLE.refused = 0


def _throttled(name: str, handler: Any) -> Any:
    operation = "".join(part.title() for part in name.split("_"))

    def handle(self: IoTResponse) -> Any:
        THROTTLE.admit(f"{self.current_account}/{self.region}/{operation}")
        return handler(self)

    return handle


def install() -> None:
    """Patch moto's IoT handlers (once per process; safe to call again)."""
    global _installed
    if _installed:
        return
    from engine.sandbox.moto_groups import HANDLERS as GROUP_HANDLERS

    for name, handler in {**_HANDLERS, **GROUP_HANDLERS}.items():
        setattr(IoTResponse, name, _throttled(name, handler))
    ResourceGroupsTaggingAPIResponse.get_resources = _throttled(  # type: ignore[method-assign]
        "get_resources", _get_resources)
    _installed = True


def backend(account: str = "123456789012", region: str = "eu-west-1") -> IoTBackend:
    return iot_backends[account][region]


def set_job_status(job_id: str, status: str, *, account: str = "123456789012",
                   region: str = "eu-west-1") -> None:
    """Move a job as devices and AWS would (tests, and the sandbox's simulation)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    job = _job(backend(account, region), job_id)
    job.status = status
    job.last_updated_at = utcnow()
    if status in ("COMPLETED", "CANCELED"):
        job.completed_at = utcnow()  # type: ignore[assignment]


def set_job_progress(job_id: str, counts: dict[str, int], *, started_minutes_ago: float = 0,
                     account: str = "123456789012", region: str = "eu-west-1") -> None:
    """Set a job's execution counts (DescribeJob's ``jobProcessDetails`` keys) and how long
    ago it was created, as devices and time would (tests of gates, and the sandbox)."""
    job = _job(backend(account, region), job_id)
    import botocore.session

    shape = botocore.session.get_session().get_service_model("iot").shape_for(
        "JobProcessDetails")
    unknown = sorted(set(counts) - set(shape.members) - {"processingTargets"})
    if unknown:
        raise ValueError(f"not jobProcessDetails counts: {sorted(unknown)}")
    job.job_process_details.update(counts)
    job.created_at = utcnow() - timedelta(minutes=started_minutes_ago)
    job.last_updated_at = utcnow()
