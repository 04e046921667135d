"""The main scenarios again through the CLI as a subprocess, against a moto server on
loopback (``--endpoint-url``), and the sandbox as a newcomer uses it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, cli_env, make_repo

FW = """\
targets: [thinggroup/fleet]
document: {operation: firmware-update, version: 2.0.0}
abortConfig:
  criteriaList:
    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 10, minNumberOfExecutedThings: 5}
"""



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, {"fw.yaml": FW})


def rollouts(*args: str, cwd: Path, server: str | None = None) -> subprocess.CompletedProcess[str]:
    env = cli_env()
    extra = ["--endpoint-url", server, "--ledger", "file://ledger.json"] if server else []
    return subprocess.run([sys.executable, "-m", "engine", *args, *extra], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)


def test_plan_apply_plan__then_nothing_to_do(server: str, repo: Path) -> None:
    cwd = repo.parent
    first = rollouts("plan", "--detailed-exitcode", cwd=cwd, server=server)
    assert first.returncode == 2, first.stdout + first.stderr
    assert "+ create   fw" in first.stdout
    done = rollouts("apply", "--auto-approve", cwd=cwd, server=server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: created fw-" in done.stdout
    again = rollouts("plan", "--detailed-exitcode", cwd=cwd, server=server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_edited_threshold__plan_shows_the_field_and_exit_2(server: str, repo: Path) -> None:
    cwd = repo.parent
    assert rollouts("apply", "--auto-approve", cwd=cwd, server=server).returncode == 0
    (repo / "fw.yaml").write_text(FW.replace("thresholdPercentage: 10", "thresholdPercentage: 5"))
    done = rollouts("plan", "--detailed-exitcode", "-o", "json", cwd=cwd, server=server)
    assert done.returncode == 2
    data: dict[str, Any] = json.loads(done.stdout)["data"]
    assert data["summary"]["update"] == 1
    (change,) = data["changes"]
    assert change["diff"] == [{"path": "abortConfig.criteriaList[0].thresholdPercentage",
                               "before": 10, "after": 5}]
    assert change["request"]["abortConfig"]["criteriaList"][0]["thresholdPercentage"] == 5
    assert set(data["apiCalls"]) >= {"ListJobs", "DescribeJob", "GetResources"}


def test_apply_without_terminal_or_auto_approve__asks_nothing_and_changes_nothing(
        server: str, repo: Path) -> None:
    done = rollouts("apply", cwd=repo.parent, server=server)
    assert done.returncode == 1
    assert "--auto-approve" in done.stderr
    again = rollouts("plan", "--detailed-exitcode", cwd=repo.parent, server=server)
    assert again.returncode == 2  # still everything to create


def test_stale_saved_plan__exit_1_with_stale_plan_and_no_write(server: str, repo: Path) -> None:
    cwd = repo.parent
    assert rollouts("plan", "--out", "plan.json", cwd=cwd, server=server).returncode == 0
    assert rollouts("apply", "--auto-approve", cwd=cwd, server=server).returncode == 0
    done = rollouts("apply", "plan.json", "-o", "json", cwd=cwd, server=server)
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "STALE_PLAN"


def test_invalid_manifest__plan_exit_1_validation_error(server: str, repo: Path) -> None:
    (repo / "bad.yaml").write_text("targets: [thing/x]\ndocument: {}\nabortConfg: {}\n")
    done = rollouts("plan", "-o", "json", cwd=repo.parent, server=server)
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"][0]["path"] == "abortConfg"


def test_sandbox__apply_then_plan_has_nothing_to_do_then_edit_shows_diff(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(REPO / "rollouts", work / "rollouts")
    (work / ".git").mkdir()
    first = rollouts("plan", "--sandbox", "--detailed-exitcode", cwd=work)
    assert first.returncode == 2, first.stdout + first.stderr
    assert rollouts("apply", "--sandbox", "--auto-approve", cwd=work).returncode == 0
    assert (work / ".rollouts-sandbox" / "state.json").exists()
    again = rollouts("plan", "--sandbox", "--detailed-exitcode", cwd=work)
    assert again.returncode == 0, again.stdout
    defaults = work / "rollouts" / "firmware" / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("thresholdPercentage: 5\n",
                                                     "thresholdPercentage: 3\n"))
    gateway = work / "rollouts" / "firmware" / "gateway-fw-2-4-0.yaml"
    gateway.write_text(gateway.read_text().replace("reboot: true", "reboot: false"))
    edited = rollouts("plan", "--sandbox", "--detailed-exitcode", cwd=work)
    assert edited.returncode == 2
    assert "1 to update, 1 to replace" in edited.stdout
    assert "abortConfig.criteriaList[0].thresholdPercentage: 5 -> 3" in edited.stdout
    assert "document.reboot: true -> false" in edited.stdout


def test_apply_dry_run__shows_the_plan_and_writes_nothing(server: str, repo: Path) -> None:
    done = rollouts("apply", "--dry-run", cwd=repo.parent, server=server)
    assert done.returncode == 0, done.stderr
    assert "+ create   fw" in done.stdout and "Dry run: nothing was applied." in done.stdout
    assert not (repo.parent / "ledger.json").exists()
    again = rollouts("plan", "--detailed-exitcode", cwd=repo.parent, server=server)
    assert again.returncode == 2  # everything still to create
