"""Issue 10's output contract, item by item, through the CLI as a subprocess: what a CI
pipeline reads on stdout, stderr and the exit code (DESIGN.md section 4)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest

from .conftest import ACCOUNT, REGION, cli_env, make_repo

FW = "targets: [thing/dev-1]\ndocument: {operation: firmware-update, version: 2.0.0}\n"


def run(cwd: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd,
                          env=env or cli_env(), capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def failure(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Exit 1, stdout exactly one JSON document with success false, no traceback."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-800:]
    assert done.returncode == 1, (done.stdout, done.stderr[-800:])
    body: dict[str, Any] = json.loads(done.stdout)
    assert body["success"] is False, body
    error: dict[str, Any] = body["error"]
    return error


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """Text output of a failure: exit 1, nothing on stdout, one ``error:`` line on stderr."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-800:]
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == "", done.stdout
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: "), line
    return line


def iot_at(endpoint: str) -> Any:
    return boto3.client("iot", region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path, {"fw.yaml": FW})
    return tmp_path


# --- 1. JSON: success false exactly when exit 1; one document on stdout ------------------


def test_plan_and_apply_json__pinned_id_conflict__exit_1_success_false_conflict(
        repo: Path, server: str) -> None:
    (repo / "rollouts" / "pin.yaml").write_text("jobId: pinned-1\ntargets: [thing/dev-2]\n"
                                                "document: {v: 2}\n")
    iot_at(server).create_job(
        jobId="pinned-1", targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/dev-2"],
        document='{"v": 9}')
    for command in (["plan"], ["apply", "--auto-approve"]):
        error = failure(run(repo, *command, "--endpoint-url", server, "-o", "json"))
        assert error["code"] == "CONFLICT", error
        assert any(d.get("jobId") == "pinned-1" for d in error["details"]), error


def test_apply_json__scheduled_start_in_the_past__exit_1_plan_error(
        repo: Path, server: str) -> None:
    (repo / "rollouts" / "later.yaml").write_text(
        FW.replace("dev-1", "dev-3") + "schedulingConfig: {startTime: '2020-01-01T00:00'}\n")
    error = failure(run(repo, "apply", "--auto-approve", "--endpoint-url", server,
                        "-o", "json"))
    assert error["code"] == "PLAN_ERROR" and "startTime 2020-01-01T00:00" in error["message"]
    ids = [j["jobId"] for j in iot_at(server).list_jobs()["jobs"]]
    assert ids == []  # a failed plan is never applied, not even its valid part


def test_apply_json_without_terminal__stdout_one_json_document_plan_on_stderr(
        repo: Path, server: str) -> None:
    done = run(repo, "apply", "--endpoint-url", server, "-o", "json")
    error = failure(done)
    assert error["code"] == "APPLY_FAILED" and "--auto-approve" in error["message"]
    assert "+ create   fw" in done.stderr


# --- 2. no traceback: one line, and the envelope --------------------------------------


def test_missing_s3_ledger_bucket__one_line_ledger_error(repo: Path, server: str) -> None:
    args = ("plan", "--endpoint-url", server, "--ledger", "s3://no-such-bucket/x.json")
    line = one_line_error(run(repo, *args))
    assert "no-such-bucket" in line
    assert failure(run(repo, *args, "-o", "json"))["code"] == "LEDGER_ERROR"


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "status"])
def test_missing_folder__one_line_config_error(repo: Path, command: str) -> None:
    line = one_line_error(run(repo, command, "no-such-folder"))
    assert "no-such-folder" in line and "no such folder" in line
    error = failure(run(repo, command, "no-such-folder", "-o", "json"))
    assert error["code"] == "CONFIG_ERROR" and "no-such-folder" in error["message"]


@pytest.mark.parametrize("content", ["garbage", '{"format": "iot-rollouts-plan/2"}',
                                     "[" * 50_000])
def test_damaged_plan_file__one_line_plan_error(repo: Path, content: str) -> None:
    (repo / "plan.json").write_text(content)
    line = one_line_error(run(repo, "apply", "plan.json"))
    assert "plan.json" in line
    assert failure(run(repo, "apply", "plan.json", "-o", "json"))["code"] == "PLAN_ERROR"


def test_malformed_endpoint_url__one_line_error(repo: Path) -> None:
    line = one_line_error(run(repo, "plan", "--endpoint-url", "htp:/bad"))
    assert "--endpoint-url" in line


# --- 3. markdown: a failing plan says so at its first line, errors first -----------------


def test_markdown__failing_plan__first_line_says_failed_and_errors_come_first(
        repo: Path, server: str) -> None:
    (repo / "rollouts" / "later.yaml").write_text(
        FW.replace("dev-1", "dev-3") + "schedulingConfig: {startTime: '2020-01-01T00:00'}\n")
    done = run(repo, "plan", "--endpoint-url", server, "-o", "markdown")
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith("<!--")]
    assert lines[0] == "### \u274c Plan failed: 1 error", lines[:3]
    error = next(i for i, line in enumerate(lines) if "startTime 2020-01-01T00:00" in line)
    table = next(i for i, line in enumerate(lines) if line.startswith("| "))
    assert error < table and error <= 2, lines[:6]
    assert "**Notes**" not in "\n".join(lines[:error])


def test_markdown__successful_plan__first_line_says_so(repo: Path, server: str) -> None:
    done = run(repo, "plan", "--endpoint-url", server, "-o", "markdown")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith("<!--")]
    assert lines[0].startswith("### \u2705 Plan: 1 to create"), lines[:3]


# --- 4. an endpoint that lacks an operation: fail fast, name it, no HTML ---------------


def test_stock_moto_server__plan_fails_within_seconds_naming_the_operation(
        repo: Path, stock_server: str) -> None:
    """Stock moto has no ListTagsForResource for jobs: it answers an HTML 500 page, which no
    retry can mend."""
    iot = iot_at(stock_server)
    job_id = f"unlisted-{time.monotonic_ns()}"
    iot.create_job(jobId=job_id, targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/dev-1"],
                   document="{}")
    (repo / "rollouts" / "pin.yaml").write_text(f"jobId: {job_id}\ntargets: [thing/dev-1]\n"
                                                "document: {}\n")
    started = time.monotonic()
    done = run(repo, "plan", "--endpoint-url", stock_server, "-o", "json", timeout=60)
    assert time.monotonic() - started < 10
    error = failure(done)
    assert error["code"] == "AWS_ERROR"
    message = error["message"]
    assert "ListTagsForResource" in message and "<" not in message and "\n" not in message
    line = one_line_error(run(repo, "plan", "--endpoint-url", stock_server))
    assert "ListTagsForResource" in line and "does not implement" in line


def test_unreachable_endpoint__aws_error_within_seconds(repo: Path) -> None:
    started = time.monotonic()
    error = failure(run(repo, "plan", "--endpoint-url", "http://127.0.0.1:9", "-o", "json"))
    assert time.monotonic() - started < 10
    assert error["code"] == "AWS_ERROR" and "Could not connect" in error["message"]


# --- 5. a create shows its request in brief -------------------------------------------

BUSY = """\
targets: [thinggroup/fleet]
description: OTA 2.0.0
document: {operation: firmware-update, version: 2.0.0}
targetSelection: CONTINUOUS
jobExecutionsRolloutConfig:
  maximumPerMinute: 50
  exponentialRate:
    baseRatePerMinute: 5
    incrementFactor: 2
    rateIncreaseCriteria: {numberOfSucceededThings: 10}
abortConfig:
  criteriaList:
    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 10, minNumberOfExecutedThings: 5}
timeoutConfig: {inProgressTimeoutInMinutes: 60}
jobExecutionsRetryConfig:
  criteriaList: [{failureType: TIMED_OUT, numberOfRetries: 2}]
schedulingConfig: {startTime: 'START', endBehavior: CANCEL}
"""


def test_text_plan__create_shows_its_request_in_brief(tmp_path: Path) -> None:
    start = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    make_repo(tmp_path, {"fw.yaml": BUSY.replace("START", start)})
    done = run(tmp_path, "plan", "--sandbox")
    assert done.returncode == 0, done.stderr
    block = done.stdout.split("+ create   fw", 1)[1].split("\nPlan:", 1)[0]
    for words in (f"targets: arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/fleet (CONTINUOUS)",
                  'document: {"operation":"firmware-update","version":"2.0.0"}',
                  "description: OTA 2.0.0",
                  "rollout: at most 50 a minute; from 5 a minute, x2 after every 10 "
                  "succeeded",
                  "abort: CANCEL when 10% FAILED (after at least 5 executions)",
                  "timeout: 60 minutes in progress",
                  "retries: TIMED_OUT 2 times",
                  f"schedule: starts {start}, at the end CANCEL"):
        assert words in block, block


# --- 6. region precedence, and working from a subfolder ---------------------------------


def _region_of(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    region: str = json.loads(done.stdout)["data"]["changes"][0]["region"]
    return region


def test_region__option_then_config_then_environment_then_profile(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"fw.yaml": FW})
    (tmp_path / "aws-config").write_text("[default]\nregion = ap-south-1\n"
                                         "[profile ops]\nregion = sa-east-1\n"
                                         "aws_access_key_id = testing\n"
                                         "aws_secret_access_key = testing\n")
    env = {k: v for k, v in cli_env().items() if k not in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")
    plan = ("plan", "--sandbox", "-o", "json")

    def region(*extra: str, **variables: str) -> str:
        return _region_of(run(tmp_path, *plan, *extra, env={**env, **variables}))

    both = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-north-1"}
    assert region("--region", "us-east-1", **both) == "us-east-1"
    assert region(**both) == REGION  # _config.yaml's
    (root / "_config.yaml").write_text("project: p\n")
    assert region(**both) == "us-west-2"
    assert region(AWS_DEFAULT_REGION="eu-north-1") == "eu-north-1"
    assert region() == "ap-south-1"  # the default profile's
    assert region("--profile", "ops") == "sa-east-1"
    assert region(AWS_PROFILE="ops") == "sa-east-1"


def test_validate_from_a_subfolder__finds_the_rollouts_folder(tmp_path: Path) -> None:
    make_repo(tmp_path, {"fw.yaml": FW, "firmware/b.yaml": FW.replace("dev-1", "dev-2")})
    done = run(tmp_path / "rollouts" / "firmware", "validate", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    names = {j["name"] for j in json.loads(done.stdout)["data"]["jobs"]}
    assert names == {"fw", "b"}


def test_plan_of_a_subfolder__uses_the_top_config(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"fw.yaml": FW, "firmware/b.yaml": FW.replace("dev-1", "dev-2")})
    (root / "_config.yaml").write_text("region: ca-central-1\nproject: top-project\n")
    done = run(tmp_path, "plan", "rollouts/firmware", "--sandbox", "-o", "json")
    assert _region_of(done) == "ca-central-1"
    data = json.loads(done.stdout)["data"]
    assert data["project"] == "top-project" and [c["name"] for c in data["changes"]] == ["b"]
