"""Desired jobs: valid manifests resolved to the exact CreateJob request and identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.identity import TAG_NAME, TAG_SPEC_HASH, derived_job_id, spec_hash
from engine.resolve import create_job_request
from engine.validate import ValidJob


@dataclass(frozen=True)
class DesiredJob:
    """A job as the repository wants it: the request less jobId and tags, and who it is."""

    name: str
    job_id: str
    pinned: bool
    region: str
    request: dict[str, Any]
    tags: dict[str, str]  # the tags that are compared: the user's and rollouts:name/spec-hash
    spec_hash: str
    source: str
    file: str
    line: int
    valid: ValidJob

    def create_request(self, extra_tags: dict[str, str]) -> dict[str, Any]:
        """The full CreateJob parameters, with the tags written only at creation."""
        tags = {**self.tags, **extra_tags}
        return {"jobId": self.job_id, **self.request,
                "tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def desire(job: ValidJob, *, account: str, region: str) -> DesiredJob:
    request = create_job_request(job, account=account, region=region)
    user_tags = {t["Key"]: t.get("Value", "") for t in request.pop("tags", [])}
    # The hash depends only on the manifest (fixed for a cached job) and where it resolves.
    context = f"{account}/{region}"
    digest = job.ids.get(context)
    if digest is None:
        digest = job.ids[context] = spec_hash(request)
    pinned = job.job_id is not None
    job_id = job.job_id or derived_job_id(job.name, digest)
    tags = {**user_tags, TAG_NAME: job.name, TAG_SPEC_HASH: digest}
    return DesiredJob(name=job.name, job_id=job_id, pinned=pinned, region=region,
                      request=request, tags=tags, spec_hash=digest, source=job.source,
                      file=job.file, line=job.line, valid=job)
