"""Review (inputs): `rollouts sandbox serve` on a state folder another server (or a
--sandbox command) is using. The lock is held only while loading and saving, so two users
of one --state each keep their own copy and the last to stop overwrites the other's jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REGION, cli_env
from tests.sandbox.test_serve import Served, client


def _saved_ids(state: Path) -> set[str]:
    body = json.loads((state / "state.json").read_text())
    return {job["jobId"] for jobs in body["regions"].values() for job in jobs}


def test_serve__second_server_on_the_same_state__refused_or_no_job_lost(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Served("--state", str(state))
    try:
        client("iot", first.url).create_job(  # type: ignore[attr-defined]
            jobId="made-on-first", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/a"],
            document="{}")
        # A second server on the same folder: it should refuse (state in use, exit 1)...
        second = subprocess.Popen(
            [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0",
             "--state", str(state)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
        try:
            second.wait(timeout=5)
            refused = True
        except subprocess.TimeoutExpired:
            refused = False
        assert first.stop()[0] == 0
        if not refused:
            # ...or at least not erase the first's jobs when it stops after it. Today it
            # starts, and its stop saves "0 job(s)" over the first's job.
            second.terminate()
            second.communicate(timeout=15)
            assert "made-on-first" in _saved_ids(state), (state / "state.json").read_text()
        else:
            assert second.returncode == 1
            assert "made-on-first" in _saved_ids(state)
    finally:
        for process in (first.process,):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_serve__ipv6_host__prints_a_url_boto3_accepts(tmp_path: Path) -> None:
    # README: "The first line on stdout is the endpoint's URL". With --host ::1 it prints
    # http://::1:PORT, which boto3 refuses ("ValueError: Invalid endpoint"); an IPv6 URL
    # needs brackets: http://[::1]:PORT.
    import boto3

    server = Served.__new__(Served)
    server.process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sandbox", "serve", "--port", "0", "--host", "::1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert server.process.stdout is not None
        url = server.process.stdout.readline().strip()
        iot = boto3.client("iot", region_name=REGION, endpoint_url=url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        assert iot.list_jobs()["jobs"] == []
    finally:
        server.process.terminate()
        server.process.communicate(timeout=15)


def test_serve__sandbox_apply_while_serving_the_same_state__job_not_lost(
        tmp_path: Path) -> None:
    # README: the server "can carry on what --sandbox commands made, and back (not both at
    # once ...)". Nothing enforces "not both at once": the server takes the folder's lock
    # only to load and to save, so an `apply --sandbox` meanwhile succeeds, and the server's
    # stop then overwrites state.json: the job the apply created is gone from the sandbox.
    from tests.conftest import make_repo

    make_repo(tmp_path, {"fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    (tmp_path / "rollouts" / "_config.yaml").write_text(
        f"project: acme\nregion: {REGION}\n")
    server = Served("--state", str(tmp_path / ".rollouts-sandbox"))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "apply", "--sandbox", "--auto-approve",
             "-o", "json"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
            check=False, stdin=subprocess.DEVNULL)
        applied_while_served = done.returncode == 0
    finally:
        assert server.stop()[0] == 0
    if applied_while_served:
        assert _saved_ids(tmp_path / ".rollouts-sandbox"), "the apply's job was lost"
    else:
        assert "sandbox" in json.loads(done.stdout)["error"]["message"]
