"""A rollout in waves in the sandbox: waves move on as its devices progress, and the
ROLLOUTS_SANDBOX_FAIL knob makes a wave's devices fail so that its gate halts the rollout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from ..conftest import make_repo
from ..conftest import sandbox_json as _run

MANIFEST = """\
name: gw
document: {operation: firmware-update, version: 2.5.0}
waves:
  - name: canary
    targets: [thinggroup/gw-canary]
    gate: {minSucceeded: 25, maxFailedPercent: 25, minExecuted: 10}
  - name: ring
    targets: [thinggroup/gw-ring]
    gate: {minSucceeded: 25, maxFailedPercent: 25, minExecuted: 10}
  - name: fleet
    targets: [thinggroup/gw-fleet]
"""



def _states() -> dict[str, str]:
    return {w["wave"]: w["state"] for w in _run("plan")["waves"]}


def _settle() -> None:
    """Look at the status until every wave job that runs has finished."""
    for _ in range(10):
        if all(r["status"] != "IN_PROGRESS" for r in _run("status")["rollouts"]):
            return
    pytest.fail("the sandbox's devices never finished")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_repo(tmp_path, {"gw.yaml": MANIFEST})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_sandbox_waves__go_canary_ring_fleet_as_devices_succeed(repo: Path) -> None:
    _run("apply", "--auto-approve")
    assert _states() == {"canary": "waiting", "ring": "pending", "fleet": "pending"}
    status = {r["name"]: r for r in _run("status")["rollouts"]}
    assert set(status) == {"gw/canary", "gw/ring", "gw/fleet"}
    assert status["gw/canary"]["gate"]["condition"]["minSucceeded"]["want"] == ">= 25"
    assert status["gw/ring"]["status"] == "NOT_CREATED" and "gate" not in status["gw/ring"]
    _settle()
    assert _states()["canary"] == "passed"
    _run("apply", "--auto-approve")
    _settle()
    _run("apply", "--auto-approve")
    assert _states() == {"canary": "done", "ring": "done", "fleet": "running"}


def test_sandbox_waves__failing_devices__halt_the_rollout_at_their_wave(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUTS_SANDBOX_FAIL", "gw-ring=50")
    _run("apply", "--auto-approve")
    _settle()
    _run("apply", "--auto-approve")  # the canary held: the ring starts, and fails
    _settle()
    data = _run("apply", "--auto-approve")
    assert [c["action"] for c in data["changes"]] == ["halt"]
    assert _states() == {"canary": "done", "ring": "failed", "fleet": "pending"}
    assert _run("plan")["changes"] == []  # halted for good
    status = {r["name"]: r for r in _run("status")["rollouts"]}
    assert status["gw/fleet"]["haltedAt"] == "ring" and "haltedAt" not in status["gw/ring"]


def test_sandbox_fail_knob__bad_value__config_error(repo: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUTS_SANDBOX_FAIL", "gw-ring=lots")
    done = CliRunner().invoke(main, ["status", "--sandbox", "--output", "json"])
    body = json.loads(done.output)
    assert done.exit_code == 1 and body["error"]["code"] == "CONFIG_ERROR"
    assert "GROUP=PERCENT" in body["error"]["message"]
