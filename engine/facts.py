"""The facts of the AWS IoT Jobs API and of the tool's own marks, in one place.

Field tables, which fields UpdateJob can change, the API's defaults, job statuses and the
tags the tool writes: resolve, spec, remote, rollouts, plan, status and the sandbox all
import them from here, so that each fact has one home.
"""

from __future__ import annotations

# Request fields that are the job's spec: CreateJob sets them and nothing changes them later.
# ``rerun`` is the tool's own: not sent, but a new value makes a new revision.
IMMUTABLE_FIELDS = (
    "targets", "document", "documentSource", "targetSelection", "schedulingConfig",
    "namespaceId", "jobTemplateArn", "documentParameters", "destinationPackageVersions",
    "rerun",
)
# Request fields UpdateJob accepts.
MUTABLE_FIELDS = (
    "description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
    "timeoutConfig", "jobExecutionsRetryConfig",
)
# What AWS assumes when a request leaves a field out (CreateJob reference).
API_DEFAULTS = {"targetSelection": "SNAPSHOT"}
# The targetSelection of a job that stays open for things added to its groups: AWS never
# completes it.
CONTINUOUS = "CONTINUOUS"
# AWS fills this in when a presignedUrlConfig has a role but no expiry.
DEFAULT_EXPIRES_IN_SEC = 3600

# Job statuses (DescribeJob / ListJobs).
IN_PROGRESS = "IN_PROGRESS"
SCHEDULED = "SCHEDULED"
COMPLETED = "COMPLETED"
CANCELED = "CANCELED"
DELETION_IN_PROGRESS = "DELETION_IN_PROGRESS"
ACTIVE = frozenset({IN_PROGRESS, SCHEDULED})
STATUSES = (IN_PROGRESS, CANCELED, COMPLETED, DELETION_IN_PROGRESS, SCHEDULED)
# Not an AWS status: a job of the project that the tag index holds and the listing of active
# jobs does not, so it has ended (COMPLETED, CANCELED or being deleted), which way not read.
ENDED = "ENDED"
# CancelJob's reasonCode for the tool's own cancels (its earlier versions used it too).
CANCEL_REASON_CODE = "ROLLOUTS"

# The tool's tags on every job it creates or adopts.
TAG_PROJECT = "rollouts:project"
TAG_NAME = "rollouts:name"
TAG_SPEC_HASH = "rollouts:spec-hash"
TAG_SOURCE = "rollouts:source"
TAG_COMMIT = "rollouts:commit"
TAG_CANCELED_BY = "rollouts:canceled-by"
# The wave of a rollout in waves that a job runs (DESIGN.md section 8).
TAG_WAVE = "rollouts:wave"
# On a wave's job whose gate failed: why. The revision halts for good (no later wave).
TAG_HALTED = "rollouts:halted"
# The hash of the mutable fields the tool last sent (CreateJob, UpdateJob): a finished job
# cannot be read for them without a DescribeJob each plan, so the tag tells an edit.
TAG_MUTABLE_HASH = "rollouts:mutable-hash"
# Written by the tool as it acts, never compared: moving a file, a new commit, the tool's
# own cancel mark or its record of what it sent is no change to the job.
UNDIFFED_TAGS = frozenset({TAG_SOURCE, TAG_COMMIT, TAG_CANCELED_BY, TAG_MUTABLE_HASH,
                           TAG_HALTED})

# jobId: letters, digits, - and _, at most 64 characters.
JOB_ID_MAX = 64


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"

# The executions each abort failureType counts, as the job's process details name them.
FAILURES = {"FAILED": ("failed",), "REJECTED": ("rejected",), "TIMED_OUT": ("timed out",),
            "ALL": ("failed", "rejected", "timed out")}
# The same in words ("2 failed of 40 executed", "failed, rejected or timed out").
FAILURE_WORDS = {kind: ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1
                 else words[0] for kind, words in FAILURES.items()}
