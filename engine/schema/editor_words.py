"""The editor schemas' own words: for the project's conveniences, which botocore does not
know, for the few fields whose service-model text misleads a writer, and the examples.

Paths as in ``servicedocs``: ``a.b`` a member, ``a[]`` each entry of a list, ``a{}`` each
value of a mapping.
"""

from __future__ import annotations

from typing import Any

from engine.schema.rules import MAX_USER_TAGS

TITLES = {
    "manifest": "iot-rollouts manifest (one AWS IoT job per YAML document)",
    "defaults": "iot-rollouts _defaults.yaml (shared settings of the jobs in this folder)",
    "config": "iot-rollouts _config.yaml (settings of the whole rollouts folder)",
    "policies": "iot-rollouts _policies.yaml (the team's rules, in CEL)",
}

ROOTS = {
    "manifest": (
        "One rollout: the CreateJob request under the API's own names, plus the "
        "conveniences name, region, documentFile, rerun, targets as thing/NAME and tags as "
        "a mapping. Keys missing here may come from _defaults.yaml files of this folder and "
        "above; key: null drops what they give."),
    "defaults": (
        "Settings merged into every job in this folder and below: mappings merge key by "
        "key, lists and scalars replace, nearer folders win and the job's own keys win. Any "
        "CreateJob key but name and jobId, which name one job."),
    "config": (
        "Settings of the whole rollouts folder, read only at its top: the project, the "
        "default region, the ledger, pruning and files that are not manifests."),
    "policies": (
        "The team's rules, read only at the top of the rollouts folder: each policy's rule "
        "(CEL over job, the CreateJob request, and rollout) must hold for every job its "
        "match selects; validate, plan and apply check them before any AWS call."),
}

# Whole descriptions, in place of botocore's (or where botocore has none).
HAND: dict[str, str] = {
    "name": (
        "The logical name of the rollout, unique in the repository; derived job ids start "
        "with it. Default: the file's name without .yaml (give one to each job of a file "
        "that holds several)."),
    "region": (
        "The AWS region of this job, where it is not the default (--region, else "
        "_config.yaml's region, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's)."),
    "jobId": (
        "Pins the job identifier, which must be unique in the account (letters, digits, - "
        "and _). Usually left out: the tool derives NAME-1a2b3c4d (the name and the first 8 "
        "hex digits of the spec hash), so an edit that needs a new job gets a new id."),
    "targets[]": (
        "A thing or thing group: thing/NAME, thinggroup/NAME (resolved with the region and "
        "account of the credentials in use), or its full ARN."),
    "document": (
        "The job document: a mapping (sent as canonical JSON) or a string of JSON, at most "
        "32,768 bytes as JSON. One of document, documentFile and documentSource, unless "
        "jobTemplateArn supplies the document."),
    "documentFile": (
        "A JSON file holding the job document: a path relative to this manifest, inside the "
        "repository; instead of document."),
    "rerun": (
        "Rolls the same content out again as a new job: raise the number each time. Part of "
        "the job's identity (its spec hash); not sent to AWS."),
    "tags{}": "The tag's value; null drops the tag that a _defaults.yaml gives.",
    "documentParameters{}": "The value of one parameter of the managed template.",
    # botocore describes the window as DescribeJob shows it ("Displays the ..."); a writer
    # needs to know what to write.
    "schedulingConfig.maintenanceWindows[].startTime": (
        "When each maintenance window opens: an AWS cron expression of six fields, "
        "cron(minutes hours day-of-month month day-of-week year), in UTC."),
    "schedulingConfig.maintenanceWindows[].durationInMinutes": (
        "How long each maintenance window stays open, in minutes (1 to 1,430)."),
}

# Added to botocore's description: what the tool adds or the API reference states.
NOTES: dict[str, str] = {
    "targets": (
        " Each a thing or thing group, as thing/NAME, thinggroup/NAME or a full ARN; at "
        "most 100, none twice."),
    "documentSource": " Never with a presigned-URL placeholder.",
    "timeoutConfig.inProgressTimeoutInMinutes": " From 1 to 10,080 (7 days).",
    "jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria": (
        " Exactly one of its two fields."),
    "abortConfig.criteriaList": " No failure type twice.",
    "jobExecutionsRetryConfig.criteriaList": (
        " No failure type twice; at most 10 retries of all types together."),
    "documentParameters": " Only with jobTemplateArn; the names the template declares.",
    "schedulingConfig.startTime": (
        " Written YYYY-MM-DDTHH:MM in UTC, 30 minutes to a year ahead when the job is "
        "created."),
    "schedulingConfig.endTime": (
        " Written YYYY-MM-DDTHH:MM in UTC, 30 minutes to 2 years after startTime."),
    "schedulingConfig.maintenanceWindows": " Only with a startTime.",
    "tags": (
        f" Written as a mapping {{key: value}} or the API's list of {{Key, Value}}; at most "
        f"{MAX_USER_TAGS} (the API's 50 less the tool's own rollouts:* tags), no key "
        "starting with aws: or rollouts:."),
}

# _policies.yaml: the model's descriptions, and these where it has none.
POLICIES: dict[str, str] = {
    "policies[]": "One rule: a CEL rule over job and rollout, where its match holds.",
}

# _config.yaml: the model's descriptions, and these where it has none.
CONFIG: dict[str, str] = {
    "exclude": (
        "Globs, relative to the rollouts folder, of YAML files that are not manifests, "
        "such as documents kept beside them."),
    "exclude[]": "A glob of files to leave out, such as firmware/documents/**.",
    "regions[]": "A region name, such as eu-west-1.",
}

EXAMPLES: dict[str, list[Any]] = {
    "name": ["sensor-fw-1-9-2"],
    "region": ["eu-west-1"],
    "jobId": ["sensor-fw-1-9-2-canary"],
    "targets[]": ["thinggroup/sensors-canary", "thing/sensor-0001",
                  "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensors"],
    "documentFile": ["documents/sensor-fw-1.9.2.json"],
    "documentSource": ["https://s3.eu-west-1.amazonaws.com/example-firmware/job.json"],
    "jobTemplateArn": ["arn:aws:iot:eu-west-1::jobtemplate/AWS-Reboot:1.0"],
    "presignedUrlConfig.roleArn": ["arn:aws:iam::123456789012:role/iot-presigned-urls"],
    "schedulingConfig.startTime": ["2027-06-01T22:00"],
    "schedulingConfig.endTime": ["2027-06-08T22:00"],
    "schedulingConfig.maintenanceWindows[].startTime": ["cron(0 22 ? * SUN *)"],
    "tags": [{"team": "firmware"}],
    "destinationPackageVersions[]": [
        "arn:aws:iot:eu-west-1:123456789012:package/sensor-fw/version/1.9.2"],
    # _config.yaml
    "project": ["acme-fleet"],
    "ledger": ["s3://acme-rollouts-state/ledger.json", "file://.rollouts-ledger.json"],
    "exclude": [["firmware/documents/**"]],
    # _policies.yaml
    "policies[].match": ["job.targets.exists(t, t.contains(':thinggroup/prod-'))"],
    "policies[].rule": ["has(job.abortConfig) && job.abortConfig.criteriaList.exists(c, "
                        "c.thresholdPercentage <= 10)"],
}
