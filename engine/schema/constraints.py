"""Constrained scalar types of the CreateJob API, as botocore's ``iot`` service model states them.

Patterns are anchored here: the service model's patterns are whole-value patterns, while
pydantic searches. ``PATTERN_HELP`` says in words what each pattern allows, for messages.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

JOB_ID_PATTERN = r"^[a-zA-Z0-9_-]+$"
NO_CONTROL_PATTERN = r"^[^\p{C}]+$"
TAG_KEY_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
ARN_PATTERN = r"^arn:[!-~]+$"
# A target: a full thing or thing-group ARN, or the shorthand thing/NAME, thinggroup/NAME.
TARGET_PATTERN = (
    r"^(arn:aws[a-z-]*:iot:[a-z0-9-]+:[0-9]{12}:)?(thing|thinggroup)/[a-zA-Z0-9:_-]{1,128}$"
)
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$"
# name is part of derived job ids, `<name>-<8 hex>`, which the API caps at 64 characters.
NAME_MAX = 64 - 9
PROJECT_PATTERN = r"^[a-zA-Z0-9_.-]+$"
# AWS cron syntax, as maintenance windows take it: cron(Minutes Hours Day-of-month Month
# Day-of-week Year), six fields of digits, names and * ? , - / # L W.
CRON_PATTERN = r"^cron\( *[0-9A-Za-z*?,/#-]+( +[0-9A-Za-z*?,/#-]+){5} *\)$"
# Text with something to read: not empty, not only spaces.
NOT_BLANK_PATTERN = r"\S"

PATTERN_HELP = {
    NOT_BLANK_PATTERN: "a reason in words, not only spaces",
    JOB_ID_PATTERN: "only letters, digits, - and _",
    NO_CONTROL_PATTERN: "no control characters (newlines, tabs, escapes) and not empty",
    TAG_KEY_PATTERN: "only letters, digits, spaces and _ . : / = + - @",
    ARN_PATTERN: "an ARN: arn:PARTITION:SERVICE:... with no spaces",
    TARGET_PATTERN: (
        "a thing or thing group: thing/NAME, thinggroup/NAME, or its full ARN "
        "arn:aws:iot:REGION:ACCOUNT:thing/NAME"
    ),
    PROJECT_PATTERN: "only letters, digits, and _ . -",
    REGION_PATTERN: "a region name such as eu-west-1",
    DATETIME_PATTERN: "YYYY-MM-DDTHH:MM (UTC), such as 2026-03-01T22:00",
    CRON_PATTERN: (
        "AWS cron syntax with six fields, cron(Minutes Hours Day-of-month Month Day-of-week "
        "Year), such as cron(0 22 ? * MON-FRI *)"
    ),
}

JobId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=JOB_ID_PATTERN)]
# The value of the rollouts:project tag on every job of the project.
Project = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                           pattern=PROJECT_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX,
                                        pattern=JOB_ID_PATTERN)]
Region = Annotated[str, StringConstraints(max_length=32, pattern=REGION_PATTERN)]
# An alias of an account declared under accounts: in _config.yaml, and its 12-digit id.
AccountAlias = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                pattern=r"^[a-zA-Z0-9_-]+$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
AssumedRoleArn = Annotated[str, StringConstraints(
    max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")]
Target = Annotated[str, StringConstraints(max_length=2048, pattern=TARGET_PATTERN)]
DocumentSource = Annotated[str, StringConstraints(min_length=1, max_length=1350)]
Description = Annotated[str, StringConstraints(max_length=2028, pattern=NO_CONTROL_PATTERN)]
RoleArn = Annotated[str, StringConstraints(min_length=20, max_length=2048)]
ExpiresInSec = Annotated[int, Field(ge=60, le=3600)]
MaxPerMinute = Annotated[int, Field(ge=1, le=1000)]
RatePerMinute = Annotated[int, Field(ge=1, le=1000)]
IncrementFactor = Annotated[float, Field(ge=1.1, le=5, allow_inf_nan=False)]
NumberOfThings = Annotated[int, Field(ge=1)]
ThresholdPercentage = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
MinExecutedThings = Annotated[int, Field(ge=1)]
# The API reference bounds it; botocore's model does not carry the bounds.
InProgressTimeout = Annotated[int, Field(ge=1, le=10080)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=TAG_KEY_PATTERN)]
TagValue = Annotated[str, StringConstraints(min_length=0, max_length=256)]
NamespaceId = Annotated[str, StringConstraints(pattern=JOB_ID_PATTERN)]
TemplateArn = Annotated[str, StringConstraints(min_length=1, max_length=1600,
                                               pattern=ARN_PATTERN)]
NumberOfRetries = Annotated[int, Field(ge=0, le=10)]
ParameterKey = Annotated[str, StringConstraints(min_length=1, max_length=128,
                                                pattern=JOB_ID_PATTERN)]
ParameterValue = Annotated[str, StringConstraints(min_length=1, max_length=30720,
                                                  pattern=NO_CONTROL_PATTERN)]
DateTime = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                            pattern=DATETIME_PATTERN)]
CronExpression = Annotated[str, StringConstraints(min_length=1, max_length=256,
                                                  pattern=CRON_PATTERN)]
DurationInMinutes = Annotated[int, Field(ge=1, le=1430)]
# Waves (DESIGN.md section 8): a wave's job id is <name>-<wave>-<8 hex>.
MAX_WAVES = 20
MAX_SOAK_MINUTES = 60 * 24 * 30
WaveName = Annotated[str, StringConstraints(min_length=1, max_length=20,
                                            pattern=JOB_ID_PATTERN)]
AlarmName = Annotated[str, StringConstraints(min_length=1, max_length=255,
                                             pattern=NO_CONTROL_PATTERN)]
PackageVersionArn = Annotated[str, StringConstraints(min_length=1, max_length=1600,
                                                     pattern=ARN_PATTERN)]
