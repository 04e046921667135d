"""Shared test helpers: folders of manifests written from text."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

BASE_JOB = "targets: [thing/dev-1]\ndocument: {op: x}\n"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own validation cache, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write ``{relative path: text}`` under a fresh rollouts folder and return the folder."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "rollouts"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        root.mkdir(exist_ok=True)
        return root

    return write


# --- simulated AWS -----------------------------------------------------------------------

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An in-process simulated AWS with the project's IoT Jobs additions."""
    from moto import mock_aws

    from engine.sandbox import moto_jobs

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    moto_jobs.install()
    with mock_aws():
        yield


@pytest.fixture
def iot(aws):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("iot", region_name=REGION)


@pytest.fixture(scope="session")
def moto_server():  # type: ignore[no-untyped-def]
    """A moto server on loopback (with the additions), for the CLI as a subprocess."""
    from moto.server import ThreadedMotoServer

    from engine.sandbox import moto_jobs

    moto_jobs.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def server(moto_server: str) -> str:
    """The session's moto server, emptied for this test."""
    reset_moto(moto_server)
    return moto_server


def reset_moto(server: str) -> None:
    """Empty a moto server's simulated accounts."""
    request = urllib.request.Request(f"{server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()


def cli_env() -> dict[str, str]:
    """The environment for the CLI as a subprocess: fake credentials, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, NO_COLOR="1")
    return env


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS operation any client makes, recorded below the engine."""
    from botocore.client import BaseClient

    seen: list[str] = []
    original = BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        seen.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen


def make_repo(base: Path, files: dict[str, str]) -> Path:
    """A repository at ``base`` (a `.git` marks its root) whose rollouts folder holds
    ``files`` and a `_config.yaml` naming the region; returns the rollouts folder."""
    (base / ".git").mkdir(exist_ok=True)
    root = base / "rollouts"
    root.mkdir(exist_ok=True)
    (root / "_config.yaml").write_text(f"region: {REGION}\n")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="session")
def stock_server():  # type: ignore[no-untyped-def]
    """A stock moto server (without the project's additions, so it lacks ListTagsForResource
    and UpdateJob for jobs), in a subprocess: an endpoint that does not implement an operation."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/").close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def sandbox_json(*args: str) -> dict[str, Any]:
    """A command against the sandbox, in-process, with ``-o json``: its data (it must
    succeed)."""
    import json

    from click.testing import CliRunner

    from engine.cli import main

    done = CliRunner().invoke(main, [*args, "--sandbox", "--output", "json"])
    body: dict[str, Any] = json.loads(done.output)
    assert body["success"] is True, body
    data: dict[str, Any] = body["data"]
    return data
