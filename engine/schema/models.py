"""pydantic models of a manifest: every CreateJob parameter under its API name, plus the
conveniences (``name``, ``documentFile``, ``region``, ``tags`` as a mapping, ``document`` as a
mapping, target shorthands). Shapes and bounds only; the rules between fields are in
``engine.schema.rules``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

from engine.schema import constraints as c

# A policy's id in rollouts/_policies.yaml, and the reason a manifest gives for an exception.
PolicyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ExceptionReason = Annotated[str, Field(min_length=1, max_length=1000,
                                          pattern=c.NOT_BLANK_PATTERN)]


class ApiModel(BaseModel):
    """Strict: YAML's ``yes`` is no boolean and ``"5"`` no number; unknown keys are errors."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PresignedUrlConfig(ApiModel):
    roleArn: c.RoleArn | None = None
    expiresInSec: c.ExpiresInSec | None = None


class RateIncreaseCriteria(ApiModel):
    numberOfNotifiedThings: c.NumberOfThings | None = None
    numberOfSucceededThings: c.NumberOfThings | None = None


class ExponentialRolloutRate(ApiModel):
    baseRatePerMinute: c.RatePerMinute
    incrementFactor: c.IncrementFactor
    rateIncreaseCriteria: RateIncreaseCriteria


class JobExecutionsRolloutConfig(ApiModel):
    maximumPerMinute: c.MaxPerMinute | None = None
    exponentialRate: ExponentialRolloutRate | None = None


class AbortCriteria(ApiModel):
    failureType: Literal["FAILED", "REJECTED", "TIMED_OUT", "ALL"]
    action: Literal["CANCEL"]
    thresholdPercentage: c.ThresholdPercentage
    minNumberOfExecutedThings: c.MinExecutedThings


class AbortConfig(ApiModel):
    criteriaList: Annotated[list[AbortCriteria], Field(min_length=1)]


class TimeoutConfig(ApiModel):
    inProgressTimeoutInMinutes: c.InProgressTimeout | None = None


class Tag(ApiModel):
    Key: c.TagKey
    Value: c.TagValue | None = None


class RetryCriteria(ApiModel):
    failureType: Literal["FAILED", "TIMED_OUT", "ALL"]
    numberOfRetries: c.NumberOfRetries


class JobExecutionsRetryConfig(ApiModel):
    criteriaList: Annotated[list[RetryCriteria], Field(min_length=1, max_length=2)]


class MaintenanceWindow(ApiModel):
    startTime: c.CronExpression
    durationInMinutes: c.DurationInMinutes


class SchedulingConfig(ApiModel):
    startTime: c.DateTime | None = None
    endTime: c.DateTime | None = None
    endBehavior: Literal["STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"] | None = None
    maintenanceWindows: list[MaintenanceWindow] | None = None


class WaveGate(ApiModel):
    """What a wave's job must show before the next wave is created (DESIGN.md section 8)."""

    minSucceeded: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Succeeded executions of this wave's job, at least.")
    maxFailedPercent: c.ThresholdPercentage | None = Field(
        None, description="Failed, rejected and timed-out executions, in percent of those "
                          "executed, at most; over it the gate fails and the rollout halts.")
    minExecuted: Annotated[int, Field(ge=1)] | None = Field(
        None, description="maxFailedPercent judges only from this many executed on.")
    soakMinutes: Annotated[int, Field(ge=0, le=c.MAX_SOAK_MINUTES)] | None = Field(
        None, description="The wave's job has run at least this long.")
    alarms: Annotated[list[c.AlarmName], Field(min_length=1, max_length=100)] | None = Field(
        None, description="CloudWatch alarms (same account and region) that must not be in "
                          "ALARM; one in ALARM fails the gate.")
    approval: bool | None = Field(
        None, description="The wave must also be listed under promoted: (a reviewed commit).")


def _tags_from_mapping(value: Any) -> Any:
    """``{team: ota}`` is shorthand for the API's ``[{Key: team, Value: ota}]``."""
    if isinstance(value, dict):  # ``team: null`` drops the tag, as it drops a default
        return [{"Key": k, "Value": v} for k, v in value.items() if v is not None]
    if isinstance(value, list):  # in the API's form too: ``{Key: team, Value: null}``
        return [t for t in value
                if not (isinstance(t, dict) and "Value" in t and t["Value"] is None)]
    return value


TagList = Annotated[
    list[Tag],
    BeforeValidator(_tags_from_mapping,
                    json_schema_input_type=dict[c.TagKey, c.TagValue] | list[Tag]),
]


class Wave(ApiModel):
    """One wave of a rollout: a job of its own over its own targets; the rollout's fields
    are its defaults (mappings merge, lists and scalars replace)."""

    name: c.WaveName = Field(description="The wave's name, part of its job's id.")
    targets: Annotated[list[c.Target], Field(min_length=1, max_length=100)]
    gate: WaveGate | None = Field(
        None, description="What this wave's job must show before the next wave is created; "
                          "without a gate, the next wave waits for this one to complete.")
    description: c.Description | None = None
    presignedUrlConfig: PresignedUrlConfig | None = None
    targetSelection: Literal["CONTINUOUS", "SNAPSHOT"] | None = None
    jobExecutionsRolloutConfig: JobExecutionsRolloutConfig | None = None
    abortConfig: AbortConfig | None = None
    timeoutConfig: TimeoutConfig | None = None
    jobExecutionsRetryConfig: JobExecutionsRetryConfig | None = None
    schedulingConfig: SchedulingConfig | None = None


class Manifest(ApiModel):
    """One rollout as written in a manifest, after ``_defaults.yaml`` are merged in."""

    name: c.Name | None = Field(
        None, description="Logical name of the rollout (default: the file name without .yaml)."
    )
    region: c.Region | None = Field(None, description="Region of the job (default: _config.yaml).")
    account: c.AccountAlias | None = Field(
        None, description="The account of the job: an alias under accounts: in _config.yaml "
                          "(default: the account of the credentials in use).")
    jobId: c.JobId | None = Field(
        None, description="Pins the job id; without it the id is <name>-<8 hex of the spec>."
    )
    targets: Annotated[list[c.Target], Field(min_length=1, max_length=100)] | None = None
    document: JsonValue | None = Field(
        None, description="The job document: a mapping, or a string of JSON."
    )
    documentFile: str | None = Field(
        None, description="A JSON file holding the document, relative to this manifest."
    )
    documentSource: c.DocumentSource | None = None
    description: c.Description | None = None
    presignedUrlConfig: PresignedUrlConfig | None = None
    targetSelection: Literal["CONTINUOUS", "SNAPSHOT"] | None = None
    jobExecutionsRolloutConfig: JobExecutionsRolloutConfig | None = None
    abortConfig: AbortConfig | None = None
    timeoutConfig: TimeoutConfig | None = None
    tags: TagList | None = None
    namespaceId: c.NamespaceId | None = None
    jobTemplateArn: c.TemplateArn | None = None
    jobExecutionsRetryConfig: JobExecutionsRetryConfig | None = None
    documentParameters: dict[c.ParameterKey, c.ParameterValue] | None = None
    schedulingConfig: SchedulingConfig | None = None
    destinationPackageVersions: list[c.PackageVersionArn] | None = None
    rerun: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        None, description="Roll the same content out again as a new job: raise the number "
                          "each time (part of the immutable spec; not sent to AWS).")
    waves: Annotated[list[Wave], Field(min_length=1, max_length=c.MAX_WAVES)] | None = Field(
        None, description="Split the rollout into waves, each a job created once the wave "
                          "before it has passed its gate.")
    promoted: list[c.WaveName] | None = Field(
        None, description="Waves whose gate asks for approval, approved by this commit.")
    onFailure: Literal["cancel", "hold"] | None = Field(
        None, description="When a gate fails: cancel the failing wave's job (default), or "
                          "hold it running; no later wave is created either way.")
    policyExceptions: dict[PolicyId, ExceptionReason] | None = Field(
        None, description="Policies of rollouts/_policies.yaml this rollout may break, each "
                          "with the reason (listed in every plan; not sent to AWS).")


class Account(ApiModel):
    """An AWS account the project's jobs run in, and the role that reaches it."""

    id: c.AccountId = Field(description="The 12-digit id of the account; the identity the "
                                        "role gives is checked against it before any call.")
    roleArn: c.AssumedRoleArn = Field(
        description="The IAM role in that account to assume from the starting credentials.")
    planRoleArn: c.AssumedRoleArn | None = Field(
        None, description="A read-only role in that account that plan assumes instead of "
                          "roleArn (pull requests then never hold a role that can write).")


class Config(ApiModel):
    """``_config.yaml`` at the top of the rollouts folder."""

    project: c.Project | None = Field(
        None, description="The project whose rollouts this folder holds (tag rollouts:project); "
                          "default: the name of the git repository's top folder.")
    region: c.Region | None = Field(None, description="Default region of every job.")
    regions: list[c.Region] | None = Field(
        None, description="More regions to read for this project's jobs (a region that no "
                          "manifest names any longer still has jobs to list as orphans).")
    prune: bool | None = Field(
        None, description="Cancel orphans (active jobs whose rollout left git) on apply, as "
                          "--prune does.")
    exclude: list[str] | None = Field(
        None, description="Globs, relative to this folder, of YAML files that are not "
                          "manifests (documents/** for documents kept beside them): "
                          "neither validated nor planned.")
    ledger: str | None = Field(
        None, pattern=r"^(s3://[^/]+/.+|file://.+)$",
        description="Where the record of created jobs lives: s3://bucket/key or file://path.",
    )
    accounts: dict[c.AccountAlias, Account] | None = Field(
        None, description="The accounts jobs may run in, by alias (account: ALIAS in a "
                          "manifest or _defaults.yaml): each one's id and the role to assume.")


# The keys of a wave that are not CreateJob parameters.
WAVE_KEYS = frozenset({"name", "gate"})
