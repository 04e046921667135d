"""An apply killed with SIGKILL at random points, then run again, ends exactly where a clean
apply ends: every rollout's job once, nothing else, and every job in the ledger."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from .conftest import cli_env, make_repo, reset_moto

TRIALS = 20
MANIFESTS = 15


def _apply(cwd: Path, server: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "apply", "--auto-approve", "--endpoint-url", server,
         "--ledger", "file://ledger.json"],
        cwd=cwd, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL)


def _state(server: str) -> set[tuple[str, str]]:
    iot = boto3.client("iot", region_name="eu-west-1", endpoint_url=server,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return {(job["jobId"], job["status"])
            for page in iot.get_paginator("list_jobs").paginate()
            for job in page["jobs"]}


def _ledger(cwd: Path) -> set[str]:
    path = cwd / "ledger.json"
    if not path.exists():
        return set()
    return {r["jobId"] for r in json.loads(path.read_text())["records"] if r["event"] == "create"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path, {f"fw-{i:02d}.yaml": f"targets: [thing/dev-{i}]\ndocument: {{n: {i}}}\n"
                         for i in range(MANIFESTS)})
    return tmp_path


def test_sigkill_at_random_points__rerun_ends_like_a_clean_apply(moto_server: str,
                                                                 repo: Path) -> None:
    reset_moto(moto_server)
    started = time.monotonic()
    clean = _apply(repo, moto_server)
    assert clean.wait(timeout=120) == 0, clean.stderr.read() if clean.stderr else ""
    duration = time.monotonic() - started
    expected = _state(moto_server)
    assert len(expected) == MANIFESTS and _ledger(repo) == {j for j, _ in expected}

    rng = random.Random(2026)
    killed_mid_apply = 0
    for _trial in range(TRIALS):
        reset_moto(moto_server)
        (repo / "ledger.json").unlink(missing_ok=True)
        victim = _apply(repo, moto_server)
        time.sleep(rng.uniform(0.3, duration))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        if 0 < len(_state(moto_server)) < MANIFESTS:
            killed_mid_apply += 1
        rerun = _apply(repo, moto_server)
        assert rerun.wait(timeout=120) == 0, rerun.stderr.read() if rerun.stderr else ""
        assert _state(moto_server) == expected
        assert _ledger(repo) == {j for j, _ in expected}
    assert killed_mid_apply >= 3, "too few kills landed between the first and last create"
