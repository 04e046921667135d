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


def _saved_ids(state: Path) -> set[str]:
    body = json.loads((state / "state.json").read_text())
    return {job["jobId"] for jobs in body["regions"].values() for job in jobs}


def test_serve__second_server_on_the_same_state__refused_and_no_job_lost(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Served("--state", str(state))
    try:
        client("iot", first.url).create_job(  # type: ignore[attr-defined]
            jobId="made-on-first", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/a"],
            document="{}")
        second = subprocess.run(
            [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0",
             "--state", str(state)], capture_output=True, text=True, env=cli_env(),
            timeout=30, check=False)
        assert second.returncode == 1 and second.stdout == ""
        assert second.stderr.count("\n") == 1, second.stderr
        assert f"in use by rollouts sandbox serve (at {first.url}" in second.stderr
    finally:
        assert first.stop()[0] == 0
    assert _saved_ids(state) == {"made-on-first"}
    assert not (state / "server").exists()


def test_serve__sandbox_apply_while_serving_the_same_state__refused_naming_the_server(
        tmp_path: Path) -> None:
    make_repo(tmp_path, {"fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    (tmp_path / "rollouts" / "_config.yaml").write_text(f"project: acme\nregion: {REGION}\n")
    folder = tmp_path / ".rollouts-sandbox"
    server = Served("--state", str(folder))
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "engine", "apply", "--sandbox", "--auto-approve",
             "-o", "json"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
            check=False, stdin=subprocess.DEVNULL, timeout=60)
        assert time.monotonic() - started < 30  # refused at once, not waiting for the server
        assert done.returncode == 1
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "CONFIG_ERROR"
        assert f"in use by rollouts sandbox serve (at {server.url}" in error["message"]
    finally:
        assert server.stop()[0] == 0
    # Once the server stops, the folder is the commands' again.
    again = subprocess.run(
        [sys.executable, "-m", "engine", "apply", "--sandbox", "--auto-approve", "-o", "json"],
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, check=False,
        stdin=subprocess.DEVNULL, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    (created,) = [c["jobId"] for c in json.loads(again.stdout)["data"]["changes"]]
    assert _saved_ids(folder) == {created}


def _has_ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_serve__ipv6_host__prints_a_url_boto3_accepts() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0", "--host", "::1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://[::1]:"), url
        assert client("iot", url).list_jobs()["jobs"] == []  # type: ignore[attr-defined]
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.parametrize("host", ["bad host", "192.0.2.1"], ids=["not-a-name", "not-here"])
def test_serve__host_not_of_this_machine__error_names_the_host(host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0", "--host", host],
        env=cli_env(), capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: cannot listen on --host {host!r}"), done.stderr
    assert "--port" not in done.stderr


@pytest.mark.parametrize("args", [("--state", ""), ("--step", "nan"), ("--step", "inf"),
                                  ("--step", "-1"), ("--host", "")],
                         ids=["empty-state", "nan-step", "inf-step", "negative-step",
                              "empty-host"])
def test_serve__bad_option__usage_error_naming_it(args: tuple[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sandbox", "serve", "--port", "0", *args])
    assert result.exit_code == 1, result.output
    assert args[0] in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written in the current folder
