"""``rollouts import``: a corpus of jobs made by hand (every CreateJob field, every kind
of document, finished jobs) round-trips: import, plan shows only adopt, apply, no changes;
and what cannot be imported is refused with nothing written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.sandbox import moto_jobs

from .conftest import ACCOUNT, REGION, make_repo

ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}:"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ota-download"
ABORT = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                           "thresholdPercentage": 12.5, "minNumberOfExecutedThings": 20}]}
START = (datetime.now(timezone.utc) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
END = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")

# jobId -> CreateJob parameters (less the jobId), together every field of the API.
CORPUS: dict[str, dict[str, Any]] = {
    "plain": {"targets": [ARN + "thing/dev-1"], "document": '{"op": "reboot"}'},
    "group-and-things": {"targets": [ARN + "thinggroup/fleet", ARN + "thing/b", ARN + "thing/a"],
                         "document": '{"op": "update", "version": "2.4.0"}',
                         "description": "Gateway firmware 2.4.0"},
    "numbers": {"targets": [ARN + "thing/n"],
                "document": '{"ratio": 1e2, "pi": 3.14159265358979323846264, "n": 10,'
                            ' "ok": true, "none": null, "s": "yes", "t": "1.5", "e": "",'
                            ' "nested": {"list": [1, 2.50, "0x1F", "~"]}, "u": "caf\\u00e9"}'},
    "continuous": {"targets": [ARN + "thinggroup/new"], "document": '{"op": "cfg"}',
                   "targetSelection": "CONTINUOUS"},
    "snapshot-explicit": {"targets": [ARN + "thing/s"], "document": '{"op": "s"}',
                          "targetSelection": "SNAPSHOT"},
    "rate-fixed": {"targets": [ARN + "thinggroup/g1"], "document": '{"op": "r"}',
                   "jobExecutionsRolloutConfig": {"maximumPerMinute": 50}},
    "rate-exponential": {
        "targets": [ARN + "thinggroup/g2"], "document": '{"op": "e"}',
        "jobExecutionsRolloutConfig": {"exponentialRate": {
            "baseRatePerMinute": 5, "incrementFactor": 1.5,
            "rateIncreaseCriteria": {"numberOfSucceededThings": 10}}, "maximumPerMinute": 200}},
    "abort-timeout-retry": {
        "targets": [ARN + "thinggroup/g3"], "document": '{"op": "a"}', "abortConfig": ABORT,
        "timeoutConfig": {"inProgressTimeoutInMinutes": 60},
        "jobExecutionsRetryConfig": {"criteriaList": [
            {"failureType": "FAILED", "numberOfRetries": 3},
            {"failureType": "TIMED_OUT", "numberOfRetries": 1}]}},
    "presigned-default-expiry": {
        "targets": [ARN + "thing/p"],
        "document": '{"url": "${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/fw.bin}"}',
        "presignedUrlConfig": {"roleArn": ROLE, "expiresInSec": 3600}},
    "presigned-short": {
        "targets": [ARN + "thing/q"],
        "document": '{"url": "${aws:iot:s3-presigned-url-v2:https://s3.amazonaws.com/b/q}"}',
        "presignedUrlConfig": {"roleArn": ROLE, "expiresInSec": 300}},
    "from-s3": {"targets": [ARN + "thing/d"],
                "documentSource": "https://s3.amazonaws.com/fleet-docs/job.json"},
    "from-template": {"targets": [ARN + "thinggroup/cams"],
                      "jobTemplateArn": f"arn:aws:iot:{REGION}::jobtemplate/AWS-Run-Command:1.0",
                      "documentParameters": {"command": "systemctl restart agent"}},
    "from-own-template": {"targets": [ARN + "thing/ot"],
                          "jobTemplateArn": ARN + "jobtemplate/fw-template"},
    "scheduled": {"targets": [ARN + "thinggroup/night"], "document": '{"op": "n"}',
                  "schedulingConfig": {"startTime": START, "endTime": END,
                                       "endBehavior": "STOP_ROLLOUT", "maintenanceWindows": [
                                           {"startTime": "cron(0 22 ? * MON-FRI *)",
                                            "durationInMinutes": 120}]}},
    "namespaced": {"targets": [ARN + "thing/ns"], "document": '{"op": "ns"}',
                   "namespaceId": "AWS"},
    "packaged": {"targets": [ARN + "thing/pk"], "document": '{"op": "pk"}',
                 "destinationPackageVersions": [f"{ARN}package/agent/version/1.2.0"]},
    "tagged": {"targets": [ARN + "thing/t"], "document": '{"op": "t"}',
               "tags": [{"Key": "team", "Value": "firmware"}, {"Key": "ticket", "Value": "OPS-1"}]},
    "done": {"targets": [ARN + "thing/c"], "document": '{"op": "done"}',
             "abortConfig": ABORT},
    "stopped": {"targets": [ARN + "thing/x"], "document": '{"op": "stopped"}'},
}
FINISHED = {"done": "COMPLETED", "stopped": "CANCELED"}


def run(*args: str) -> dict[str, Any]:
    done = CliRunner().invoke(main, [*args, "--output", "json"])
    body: dict[str, Any] = json.loads(done.output)
    assert (done.exit_code == 1) is (body["success"] is False), done.output
    return body


def plan(root: Path, ledger: str) -> dict[str, Any]:
    body = run("plan", str(root), "--ledger", ledger)
    assert body["success"], body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture
def repo(tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path, {})
    (root / "_config.yaml").write_text(f"project: acme\nregion: {REGION}\n")
    return root


def make_jobs(jobs: dict[str, dict[str, Any]]) -> None:
    import boto3

    iot = boto3.client("iot", region_name=REGION)
    for job_id, params in jobs.items():
        iot.create_job(jobId=job_id, **params)
        if job_id in FINISHED:
            moto_jobs.set_job_status(job_id, FINISHED[job_id])


def test_import__corpus_of_every_field__plan_adopts_only_then_no_changes(repo: Path) -> None:
    make_jobs(CORPUS)
    body = run("import", *CORPUS, "--folder", str(repo))
    assert body["success"], body
    written = body["data"]["written"]
    assert [w["jobId"] for w in written] == list(CORPUS)
    assert all(Path(w["file"]).exists() for w in written)
    ledger = f"file://{repo.parent / 'ledger.json'}"
    first = plan(repo, ledger)
    assert {c["action"] for c in first["changes"]} == {"adopt"}, first["changes"]
    assert sorted(c["jobId"] for c in first["changes"]) == sorted(CORPUS)
    assert all(op == "TagResource" for c in first["changes"] for op, _ in
               [(call["operation"], call) for call in c["calls"]]), first["changes"]
    applied = run("apply", str(repo), "--auto-approve", "--ledger", ledger)
    assert applied["success"], applied
    again = plan(repo, ledger)
    assert again["changes"] == [] and again["summary"]["unchanged"] == len(CORPUS), again
    assert not any("missing from the ledger" in n for n in again["notes"])
    records = json.loads((repo.parent / "ledger.json").read_text())["records"]
    assert {r["jobId"] for r in records if r["reason"] == "adopt"} == set(CORPUS)


def test_import__manifests__minimal_and_readable(repo: Path) -> None:
    make_jobs({k: CORPUS[k] for k in ("group-and-things", "presigned-default-expiry",
                                      "snapshot-explicit", "numbers", "tagged")})
    run("import", "group-and-things", "presigned-default-expiry", "snapshot-explicit",
        "numbers", "tagged", "--folder", str(repo))
    group = (repo / "group-and-things.yaml").read_text()
    assert "  - thinggroup/fleet\n" in group and "arn:" not in group
    assert "jobId: group-and-things\n" in group and "version: 2.4.0\n" in group
    assert "expiresInSec" not in (repo / "presigned-default-expiry.yaml").read_text()
    assert "targetSelection" not in (repo / "snapshot-explicit.yaml").read_text()
    numbers = (repo / "numbers.yaml").read_text()
    assert "ratio: 1e2\n" in numbers and "pi: 3.14159265358979323846264\n" in numbers
    assert "s: 'yes'" in numbers or 's: "yes"' in numbers or "s: yes\n" in numbers
    assert "t: '1.5'" in numbers or 't: "1.5"' in numbers
    tagged = (repo / "tagged.yaml").read_text()
    assert "tags:\n  team: firmware\n  ticket: OPS-1\n" in tagged


def test_import__defaults_folder__manifest_undoes_what_defaults_would_add(repo: Path) -> None:
    (repo / "_defaults.yaml").write_text(
        "abortConfig:\n  criteriaList:\n    - {failureType: ALL, action: CANCEL, "
        "thresholdPercentage: 5, minNumberOfExecutedThings: 10}\n"
        "targetSelection: CONTINUOUS\ntags: {team: platform}\n"
        "document: {defaulted: true}\n")
    make_jobs({k: CORPUS[k] for k in ("plain", "tagged", "from-s3")})
    assert run("import", "plain", "tagged", "from-s3", "--folder", str(repo))["success"]
    ledger = f"file://{repo.parent / 'ledger.json'}"
    first = plan(repo, ledger)
    assert [c["action"] for c in first["changes"]] == ["adopt"] * 3, first["changes"]
    assert all(d["path"].startswith("tags.rollouts:") for c in first["changes"]
               for d in c["diff"]), first["changes"]


def test_import__all__active_unmanaged_only_and_managed_left_alone(repo: Path) -> None:
    make_jobs({k: CORPUS[k] for k in ("plain", "scheduled", "done")})
    (repo / "mine.yaml").write_text("targets: [thing/m]\ndocument: {op: m}\n")
    ledger = f"file://{repo.parent / 'ledger.json'}"
    assert run("apply", str(repo), "--auto-approve", "--ledger", ledger)["success"]
    import boto3

    boto3.client("iot", region_name=REGION).create_job(
        jobId="theirs", targets=[ARN + "thing/o"], document="{}",
        tags=[{"Key": "rollouts:project", "Value": "other"},
              {"Key": "rollouts:name", "Value": "o"}])
    body = run("import", "--all", "--folder", str(repo))
    assert body["success"], body
    assert sorted(w["jobId"] for w in body["data"]["written"]) == ["plain", "scheduled"]
    skipped = {s["jobId"]: s["reason"] for s in body["data"]["skipped"]}
    assert set(skipped) == {"theirs"} | {c for c in skipped if c.startswith("mine-")}
    assert "project other" in skipped["theirs"]
    assert body["data"]["apiCalls"]["ListJobs"] == 2  # one listing per active status
    assert "DescribeJob" not in body["data"]["apiCalls"] or \
        body["data"]["apiCalls"]["DescribeJob"] == 2


def test_import__unknown_job__names_it_and_writes_nothing(repo: Path) -> None:
    make_jobs({"plain": CORPUS["plain"]})
    body = run("import", "plain", "no-such-job", "--folder", str(repo))
    assert body["error"]["code"] == "IMPORT_ERROR"
    assert "no job no-such-job" in body["error"]["message"]
    assert "nothing was written" in body["error"]["message"]
    assert not (repo / "plain.yaml").exists()


def test_import__job_of_another_project__refused(repo: Path) -> None:
    import boto3

    boto3.client("iot", region_name=REGION).create_job(
        jobId="theirs", targets=[ARN + "thing/o"], document="{}",
        tags=[{"Key": "rollouts:project", "Value": "other"}])
    body = run("import", "theirs", "--folder", str(repo))
    assert body["error"]["code"] == "IMPORT_ERROR"
    assert "project other" in body["error"]["message"]
    assert list(repo.glob("*.yaml")) == [repo / "_config.yaml"]


def test_import__existing_file__never_overwritten(repo: Path) -> None:
    make_jobs({"plain": CORPUS["plain"]})
    (repo / "plain.yaml").write_text("# mine\n")
    body = run("import", "plain", "--folder", str(repo), "--out", str(repo))
    assert body["error"]["code"] == "IMPORT_ERROR" and "exists" in body["error"]["message"]
    assert (repo / "plain.yaml").read_text() == "# mine\n"


def test_import__no_job_and_no_all__usage_error(repo: Path) -> None:
    body = run("import", "--folder", str(repo))
    assert body["error"]["code"] == "IMPORT_ERROR"


def test_import__finished_job_deleted_from_aws__not_created_again(repo: Path) -> None:
    make_jobs({"done": CORPUS["done"]})
    run("import", "done", "--folder", str(repo))
    ledger = f"file://{repo.parent / 'ledger.json'}"
    assert run("apply", str(repo), "--auto-approve", "--ledger", ledger)["success"]
    import boto3

    boto3.client("iot", region_name=REGION).delete_job(jobId="done", force=True)
    after = plan(repo, ledger)
    assert after["changes"] == [], after


def test_import__sandbox__job_made_by_hand_adopted_then_in_sync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from engine.sandbox.runtime import sandbox

    from .conftest import sandbox_json

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path, {})
    with sandbox(tmp_path):
        boto3.client("iot", region_name=REGION).create_job(jobId="by-hand", **CORPUS["tagged"])
    written = sandbox_json("import", "by-hand")["written"]
    assert [w["file"] for w in written] == ["rollouts/by-hand.yaml"]
    assert (root / "by-hand.yaml").exists()
    first = sandbox_json("plan")
    assert [c["action"] for c in first["changes"]] == ["adopt"]
    sandbox_json("apply", "--auto-approve")
    assert sandbox_json("plan")["changes"] == []


def test_import__other_region__manifest_names_it_and_plan_adopts(repo: Path) -> None:
    import boto3

    boto3.client("iot", region_name="us-east-1").create_job(
        jobId="east", targets=["arn:aws:iot:us-east-1:123456789012:thing/e"],
        document='{"op": "east"}')
    body = run("import", "east", "--region", "us-east-1", "--folder", str(repo),
               "--out", str(repo / "east"))
    assert body["success"], body
    text = (repo / "east" / "east.yaml").read_text()
    assert "region: us-east-1\n" in text and "  - thing/e\n" in text
    first = plan(repo, f"file://{repo.parent / 'ledger.json'}")
    assert [(c["action"], c["region"]) for c in first["changes"]] == [("adopt", "us-east-1")]


def test_plan__pinned_s3_source_job_whose_document_aws_returns__adopted_not_conflict(
        tmp_path: Path) -> None:
    """AWS's GetJobDocument answers the content it read from the documentSource: the
    manifest names the source, so the content is not compared."""
    from engine.actions import Adopt

    from .factories import desired_jobs, plan_of, remote_job

    (d,) = desired_jobs(tmp_path, {"fw.yaml": "jobId: fw\ntargets: [thing/a]\n"
                                   "documentSource: https://s3.amazonaws.com/b/fw.json\n"})
    job = remote_job("fw", tags={}, document='{"op": "from s3"}',
                     detail={"jobId": "fw", "jobArn": ARN + "job/fw", "targets": [ARN + "thing/a"],
                             "targetSelection": "SNAPSHOT",
                             "documentSource": "https://s3.amazonaws.com/b/fw.json"})
    (action,) = plan_of([d], job).actions
    assert isinstance(action, Adopt)


def test_import__refused_in_text__each_reason_once_on_stderr(repo: Path) -> None:
    done = CliRunner().invoke(main, ["import", "nope-1", "nope-2", "--folder", str(repo)])
    assert done.exit_code == 1
    lines = done.output.splitlines()
    assert lines == ["error: no job nope-1 in account 123456789012, region eu-west-1",
                     "error: no job nope-2 in account 123456789012, region eu-west-1",
                     "error: nothing was written (2 problems above)"]
