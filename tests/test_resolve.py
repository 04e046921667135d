"""A valid manifest resolves to a CreateJob request that botocore itself accepts."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator

from engine.resolve import create_job_request
from engine.validate import validate_folder

from .conftest import FIXTURES, REPO

INPUT = botocore.session.get_session().get_service_model("iot").operation_model(
    "CreateJob").input_shape


def _requests(folder: Path) -> dict[str, dict[str, object]]:
    result = validate_folder(folder)
    assert result.ok, [str(p) for p in result.problems]
    requests = {}
    for job in result.jobs:
        region = job.region or "eu-west-1"
        waves = range(len(job.data["waves"])) if "waves" in job.data else [None]
        for wave in waves:  # a rollout in waves: each wave's own request
            request = create_job_request(job, account="123456789012", region=region,
                                         wave=wave)
            request["jobId"] = job.manifest.jobId or f"{job.name}-0123abcd"
            requests[job.name if wave is None else f"{job.name}/{wave}"] = request
    return requests


@pytest.mark.parametrize("folder", ["every-field", "cli-skeleton", "template-job",
                                    "defaults-tree"])
def test_request__passes_botocore_parameter_validation(folder: str) -> None:
    for name, request in _requests(FIXTURES / "good" / folder).items():
        report = ParamValidator().validate(request, INPUT)
        assert not report.has_errors(), (name, report.generate_report())


def test_example_rollouts__requests_pass_botocore_validation() -> None:
    for name, request in _requests(REPO / "rollouts").items():
        report = ParamValidator().validate(request, INPUT)
        assert not report.has_errors(), (name, report.generate_report())


def test_every_field_manifest__sets_every_request_member_but_the_exclusive_ones() -> None:
    request = _requests(FIXTURES / "good" / "every-field")["every-field"]
    assert set(INPUT.members) - set(request) == {"documentSource", "jobTemplateArn",
                                                  "documentParameters"}
    assert request["targets"] == [
        "arn:aws:iot:eu-west-1:123456789012:thing/dev-1",
        "arn:aws:iot:eu-west-1:123456789012:thinggroup/pilot",
        "arn:aws:iot:eu-west-1:123456789012:thinggroup/fleet-eu",
    ]
    document = json.loads(str(request["document"]))
    assert document["enabled"] == "yes"  # YAML 1.2: yes is text, not true
    assert request["tags"] == [{"Key": "team", "Value": "firmware"},
                               {"Key": "cost-center", "Value": "4711"}]


def test_cli_skeleton_file__round_trips_to_the_same_request() -> None:
    path = FIXTURES / "good" / "cli-skeleton" / "fleet-rollout.yaml"
    as_written = yaml.safe_load(path.read_text())
    assert _requests(path.parent)["fleet-rollout"] == as_written


def test_document_is_canonical_json_whatever_its_spelling(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({
        "a.yaml": "targets: [thing/x]\ndocument: {b: 1, a: [1, 2]}\n",
        "b.yaml": 'targets: [thing/x]\ndocument: \'{"a": [1,2],\n  "b": 1}\'\n',
        "c.yaml": "targets: [thing/x]\ndocumentFile: doc.json\n",
        "doc.json": '{\n  "b": 1,\n  "a": [1, 2]\n}\n',
    })
    documents = {r["document"] for r in _requests(root).values()}
    assert documents == {'{"a":[1,2],"b":1}'}


@pytest.mark.parametrize("region,expected", [
    ("eu-west-1", "arn:aws:iot:eu-west-1:111122223333:thing/x"),
    ("cn-north-1", "arn:aws-cn:iot:cn-north-1:111122223333:thing/x"),
    ("us-gov-west-1", "arn:aws-us-gov:iot:us-gov-west-1:111122223333:thing/x"),
])
def test_target_shorthand__resolves_in_the_regions_partition(region: str, expected: str,
                                                             write_tree) -> None:  # type: ignore[no-untyped-def]
    arn = "arn:aws:iot:us-east-1:123456789012:thing/y"  # an ARN stays as it is
    root = write_tree({"a.yaml": f"targets: [thing/x, '{arn}']\ndocument: {{}}\n"})
    (job,) = validate_folder(root).jobs
    request = create_job_request(job, account="111122223333", region=region)
    assert request["targets"] == [expected, arn]
