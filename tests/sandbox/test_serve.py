"""``rollouts sandbox serve`` in a subprocess: plan, apply and status through
``--endpoint-url``, a user's own boto3 calls, and a clean stop that keeps the jobs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ..conftest import REGION, cli_env, make_repo

FW = "targets: [thinggroup/fleet]\ndocument: {operation: update, version: 2.0.0}\n"


class Served:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.process.stderr

    def stop(self, how: int = signal.SIGTERM) -> tuple[int, float, str]:
        started = time.monotonic()
        self.process.send_signal(how)
        _, err = self.process.communicate(timeout=15)
        return self.process.returncode, time.monotonic() - started, err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served("--state", str(tmp_path / "state"))
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def rollouts(*args: str, cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--endpoint-url", url],
                          cwd=cwd, env=cli_env(), capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)


def client(service: str, url: str) -> object:
    return boto3.client(service, region_name=REGION, endpoint_url=url,  # type: ignore[call-overload]
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_serve__plan_apply_plan_and_status_through_endpoint_url__in_sync(
        served: Served, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    root = make_repo(tmp_path / "repo", {"fw.yaml": FW})
    (root / "_config.yaml").write_text(f"project: demo\nregion: {REGION}\n"
                                       "ledger: s3://ledger/rollouts.json\n")
    client("s3", served.url).create_bucket(  # type: ignore[attr-defined]
        Bucket="ledger", CreateBucketConfiguration={"LocationConstraint": REGION})
    cwd = root.parent
    first = rollouts("plan", "--detailed-exitcode", cwd=cwd, url=served.url)
    assert first.returncode == 2, first.stdout + first.stderr
    assert "+ create   fw" in first.stdout
    done = rollouts("apply", "--auto-approve", cwd=cwd, url=served.url)
    assert done.returncode == 0, done.stdout + done.stderr
    again = rollouts("plan", "--detailed-exitcode", "-o", "json", cwd=cwd, url=served.url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["data"]["summary"]["unchanged"] == 1
    status = rollouts("status", "-o", "json", cwd=cwd, url=served.url)
    assert status.returncode == 0, status.stdout + status.stderr
    (rollout,) = json.loads(status.stdout)["data"]["rollouts"]
    assert rollout["jobId"].startswith("fw-") and rollout["status"] == "IN_PROGRESS"


def test_serve__boto3_create_and_describe_job__answers_as_aws(served: Served) -> None:
    iot = client("iot", served.url)
    created = iot.create_job(  # type: ignore[attr-defined]
        jobId="mine", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/a"],
        document='{"op": "x"}', tags=[{"Key": "team", "Value": "fw"}],
        abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                       "thresholdPercentage": 10,
                                       "minNumberOfExecutedThings": 5}]})
    assert created["jobId"] == "mine"
    job = iot.describe_job(jobId="mine")["job"]  # type: ignore[attr-defined]
    assert job["status"] == "IN_PROGRESS"
    assert job["abortConfig"]["criteriaList"][0]["thresholdPercentage"] == 10
    tags = iot.list_tags_for_resource(resourceArn=created["jobArn"])  # type: ignore[attr-defined]
    assert tags["tags"] == [{"Key": "team", "Value": "fw"}]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):  # type: ignore[attr-defined]
        iot.create_job(jobId="mine", targets=["arn:aws:iot:eu-west-1:123456789012:thing/a"],  # type: ignore[attr-defined]
                       document="{}")
    account = client("sts", served.url).get_caller_identity()["Account"]  # type: ignore[attr-defined]
    assert account == "123456789012"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve__signal__exits_0_soon_and_keeps_the_jobs_for_the_next(
        how: int, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Served("--state", str(state))
    client("iot", first.url).create_job(  # type: ignore[attr-defined]
        jobId="kept", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/a"], document="{}")
    code, seconds, err = first.stop(how)
    assert code == 0, err
    assert seconds < 5
    assert "Traceback" not in err and "1 job(s) saved" in err
    second = Served("--state", str(state))
    try:
        job = client("iot", second.url).describe_job(jobId="kept")["job"]  # type: ignore[attr-defined]
        assert job["jobId"] == "kept"
    finally:
        assert second.stop()[0] == 0


def test_serve__port_in_use__one_line_error_exit_1(served: Served) -> None:
    port = served.url.rsplit(":", 1)[1]
    done = subprocess.run([sys.executable, "-m", "engine", "sandbox", "serve", "--port", port],
                          env=cli_env(), capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot listen on") and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_serve__step__devices_move_without_anyone_looking(tmp_path: Path) -> None:
    server = Served("--step", "0.2")
    try:
        iot = client("iot", server.url)
        iot.create_job(jobId="moving", document="{}",  # type: ignore[attr-defined]
                       targets=[f"arn:aws:iot:{REGION}:123456789012:thinggroup/g"])
        deadline = time.monotonic() + 10
        while True:
            details = iot.describe_job(jobId="moving")["job"]["jobProcessDetails"]  # type: ignore[attr-defined]
            if details.get("numberOfQueuedThings", 40) < 40 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert details["numberOfQueuedThings"] < 40
    finally:
        assert server.stop()[0] == 0


def test_serve__import_through_endpoint_url__plan_adopts(served: Served, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    root = make_repo(tmp_path / "repo", {})
    client("iot", served.url).create_job(  # type: ignore[attr-defined]
        jobId="by-hand", targets=[f"arn:aws:iot:{REGION}:123456789012:thinggroup/g"],
        document='{"op": "x"}')
    done = rollouts("import", "--all", "-o", "json", cwd=root.parent, url=served.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [w["jobId"] for w in json.loads(done.stdout)["data"]["written"]] == ["by-hand"]
    plan = rollouts("plan", "-o", "json", cwd=root.parent, url=served.url)
    assert [c["action"] for c in json.loads(plan.stdout)["data"]["changes"]] == ["adopt"]
