"""From a valid manifest to the CreateJob request it stands for.

Everything convenient about a manifest is resolved here, so that what follows sees only
the API's own form: target shorthands become ARNs in the job's region and account, the
document is canonical JSON, tags are the API's list of ``{Key, Value}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.facts import partition
from engine.schema.waves import wave_data

if TYPE_CHECKING:  # validate judges policies on requests built here: no import at run time
    from engine.validate import ValidJob

# Manifest keys that are conveniences, resolved here or by identity, not request fields.
_NOT_SENT = frozenset({"name", "region", "account", "documentFile", "document", "tags",
                       "jobId", "rerun", "waves", "promoted", "onFailure", "policyExceptions"})


def create_job_request(job: ValidJob, *, account: str, region: str,
                       wave: int | None = None) -> dict[str, Any]:
    """The CreateJob parameters of ``job`` (of its wave ``wave``, for a rollout in waves),
    less the jobId and the tool's own tags."""
    data = job.data if wave is None else wave_data(job.data, wave)
    request = {k: v for k, v in data.items() if k not in _NOT_SENT}
    # ``thing/NAME`` -> ``arn:aws:iot:REGION:ACCOUNT:thing/NAME``; ARNs stay as they are.
    prefix = f"arn:{partition(region)}:iot:{region}:{account}:"
    request["targets"] = [t if t.startswith("arn:") else prefix + t for t in data["targets"]]
    if job.document is not None:
        request["document"] = job.document
    if data.get("tags"):
        request["tags"] = [dict(tag) for tag in data["tags"]]
    return request
