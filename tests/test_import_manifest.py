"""The pure half of import: a job read from AWS as a minimal manifest, and its YAML as
the loader reads it back (YAML 1.2's core schema), by hand-built jobs."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from engine.importer.manifest import (
    FoundJob,
    against_defaults,
    file_stem,
    manifest_fields,
    rollout_name,
    to_yaml,
)
from engine.loader.yamlfile import parse
from engine.schema.document import NumberText, loads

from .conftest import ACCOUNT, REGION

ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}:"


def found(job_id: str = "fw", *, document: str | None = '{"op": "x"}',
          source: str | None = None, tags: dict[str, str] | None = None,
          **detail: Any) -> FoundJob:
    return FoundJob(job_id, ARN + f"job/{job_id}", "IN_PROGRESS",
                    {"jobId": job_id, "targets": [ARN + "thing/a"], **detail},
                    source, document, tags or {})


def fields_of(job: FoundJob, **kwargs: Any) -> dict[str, Any]:
    return manifest_fields(job, account=ACCOUNT, region=REGION, region_key=False,
                           name=rollout_name(job), **kwargs)


def test_manifest__api_defaults_and_nulls__left_out() -> None:
    job = found(targetSelection="SNAPSHOT", description=None, abortConfig={},
                presignedUrlConfig={"roleArn": "arn:aws:iam::1:role/r", "expiresInSec": 3600})
    fields = fields_of(job)
    assert fields == {"jobId": "fw", "targets": ["thing/a"], "document": {"op": "x"},
                      "presignedUrlConfig": {"roleArn": "arn:aws:iam::1:role/r"}}
    explicit = fields_of(job, explicit=True)
    assert explicit["targetSelection"] == "SNAPSHOT"
    assert explicit["presignedUrlConfig"]["expiresInSec"] == 3600


def test_manifest__targets_elsewhere__stay_arns() -> None:
    job = found(targets=[ARN + "thinggroup/g", "arn:aws:iot:us-east-1:111122223333:thing/far"])
    assert fields_of(job)["targets"] == ["thinggroup/g",
                                         "arn:aws:iot:us-east-1:111122223333:thing/far"]


def test_manifest__template_job__no_document_even_if_aws_expanded_one() -> None:
    job = found(document='{"expanded": true}',
                jobTemplateArn=f"arn:aws:iot:{REGION}::jobtemplate/AWS-Reboot:1.0")
    assert "document" not in fields_of(job) and "jobTemplateArn" in fields_of(job)


def test_manifest__s3_source__document_source_only() -> None:
    fields = fields_of(found(document=None, source="https://s3.amazonaws.com/b/k.json"))
    assert fields["documentSource"] == "https://s3.amazonaws.com/b/k.json"
    assert "document" not in fields


def test_manifest__tags__only_the_teams() -> None:
    job = found(tags={"team": "fw", "aws:cloudformation:stack-name": "s",
                      "rollouts:name": "old"})
    assert fields_of(job)["tags"] == {"team": "fw"}


def test_manifest__document_not_an_object__kept_as_json_text() -> None:
    assert fields_of(found(document="[1, 2]"))["document"] == "[1, 2]"


@pytest.mark.parametrize(("job_id", "tags", "name", "stem"), [
    ("fw-2-4", {}, "fw-2-4", "fw-2-4"),
    ("x" * 64, {}, "x" * 48 + "-" + hashlib.sha256(b"x" * 64).hexdigest()[:6],
     "x" * 48 + "-" + hashlib.sha256(b"x" * 64).hexdigest()[:6]),
    ("_hidden", {}, "_hidden", "job_hidden"),
    ("gateway-fw-1a2b3c4d", {"rollouts:name": "gateway-fw"}, "gateway-fw", "gateway-fw"),
    ("odd-1", {"rollouts:name": "../../etc/passwd"}, "odd-1", "odd-1"),
])
def test_manifest__name_and_file__from_the_job(job_id: str, tags: dict[str, str], name: str,
                                               stem: str) -> None:
    job = found(job_id, tags=tags)
    assert rollout_name(job) == name and file_stem(name) == stem
    assert ("name" in fields_of(job)) is (stem != name)


def test_against_defaults__what_defaults_add__nulled_or_restated() -> None:
    job = found(abortConfig={"criteriaList": []}, jobExecutionsRolloutConfig={
        "exponentialRate": {"baseRatePerMinute": 5}})
    defaults = {"targetSelection": "CONTINUOUS", "timeoutConfig": {"x": 1},
                "tags": {"team": "platform"},
                "jobExecutionsRolloutConfig": {"maximumPerMinute": 50},
                "document": {"defaulted": True}}
    out = against_defaults(fields_of(found(tags={"mine": "1"})), fields_of(
        found(tags={"mine": "1"}), explicit=True), defaults)
    assert out["targetSelection"] == "SNAPSHOT"  # the API's default, written out
    assert out["timeoutConfig"] is None
    assert out["tags"] == {"mine": "1", "team": None}
    assert out["document"] == '{"op":"x"}'  # a document cannot be undone key by key
    rate = against_defaults(fields_of(job), fields_of(job, explicit=True), defaults)
    assert rate["jobExecutionsRolloutConfig"] == {"exponentialRate": {"baseRatePerMinute": 5},
                                                  "maximumPerMinute": None}


@pytest.mark.parametrize("text", ["1e2", "true", "False", "null", "~", "", "0x1F", "0o17",
                                  "12", "-3.5", ".inf", "-.Inf", ".nan", "+7"])
def test_to_yaml__text_that_yaml_12_reads_otherwise__quoted(text: str) -> None:
    written = to_yaml({"jobId": "a", "description": text}, "head")
    (doc,), problems = parse(written, "x.yaml")
    assert not problems and doc.data["description"] == text


def test_to_yaml__document_numbers__as_written_and_read_back() -> None:
    document = loads('{"a": 1e2, "b": 2.50, "c": 10, "d": "yes", "e": null}')
    assert isinstance(document["a"], NumberText)
    written = to_yaml({"jobId": "a", "document": document}, "one\ntwo")
    assert written.startswith("# one\n# two\n")
    assert "  a: 1e2\n" in written and "  b: 2.50\n" in written and "  e: null\n" in written
    (doc,), _ = parse(written, "x.yaml")
    assert doc.scalar_text(("document", "a")) == "1e2"
    assert doc.data["document"]["d"] == "yes"


def test_to_yaml__document_yaml_cannot_hold__falls_back_to_json_text() -> None:
    document = {"<<": {"merge": "key"}}  # a YAML merge key, which the loader refuses
    written = to_yaml({"jobId": "a", "document": document}, "head")
    (doc,), problems = parse(written, "x.yaml")
    assert not problems and doc.data["document"] == '{"<<":{"merge":"key"}}'


def test_rollout_name__job_ids_alike_in_55_characters__distinct_names_within_55() -> None:
    stem = "x" * 55
    names = {rollout_name(FoundJob(stem + tail, "arn", "IN_PROGRESS", {}, None, "{}", {}))
             for tail in ("-a", "-b", "")}
    assert len(names) == 3 and all(len(n) <= 55 for n in names)
    assert stem in names  # an id that fits is its own name
