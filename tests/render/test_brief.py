"""A create's request in brief: every field a reviewer needs, one line each."""

from __future__ import annotations

from engine.render.brief import brief


def test_brief__template_presigned_windows_and_other_keys__each_on_a_line() -> None:
    lines = brief({
        "jobId": "x-1", "tags": [{"Key": "a", "Value": "b"}],
        "targets": ["arn:aws:iot:eu-west-1:1:thing/a", "arn:aws:iot:eu-west-1:1:thing/b"],
        "jobTemplateArn": "arn:aws:iot:eu-west-1::jobtemplate/AWS-Run-Command:1.0",
        "documentParameters": {"command": "ls"},
        "jobExecutionsRolloutConfig": {"exponentialRate": {
            "baseRatePerMinute": 1, "incrementFactor": 1.5,
            "rateIncreaseCriteria": {"numberOfNotifiedThings": 3,
                                     "numberOfSucceededThings": 2}}},
        "presignedUrlConfig": {"roleArn": "arn:aws:iam::1:role/r", "expiresInSec": 600},
        "schedulingConfig": {"startTime": "2030-01-01T00:00", "endTime": "2030-01-02T00:00",
                             "maintenanceWindows": [{"startTime": "cron(0 2 * * ? *)",
                                                     "durationInMinutes": 60}]},
        "namespaceId": "ns\x1b[31m",
    })
    assert lines == [
        "targets: arn:aws:iot:eu-west-1:1:thing/a, arn:aws:iot:eu-west-1:1:thing/b",
        "template: arn:aws:iot:eu-west-1::jobtemplate/AWS-Run-Command:1.0",
        'parameters: {"command": "ls"}',
        "rollout: from 1 a minute, x1.5 after every 3 notified or 2 succeeded",
        "schedule: starts 2030-01-01T00:00, ends 2030-01-02T00:00, maintenance windows "
        "cron(0 2 * * ? *) for 60 minutes",
        "presigned URLs: role arn:aws:iam::1:role/r, valid 600 s",
        "namespaceId: ns\\x1b[31m",
    ]


def test_brief__long_document__cut_to_one_short_line() -> None:
    (_, document) = brief({"targets": [], "document": '{"a": "' + "x" * 500 + '"}'})
    assert document.startswith('document: {"a": "xxx') and document.endswith("...")
    assert len(document) < 120
