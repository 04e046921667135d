"""`rollouts status` of a rollout in waves: a wave not created yet says what it waits for,
read as the plan reads it (``engine.waves.stand``), not "run apply" when apply would create
nothing.

The first test is the reviewer's (newuser): status said "not created yet: run apply" while
the plan said "pending after canary"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from .conftest import make_repo

WAVES = """\
name: gw
document: {operation: firmware-update, version: 2.6.0}
waves:
  - name: canary
    targets: [thinggroup/gw-canary]
    gate: {minSucceeded: 1000}
  - name: all
    targets: [thinggroup/gw-prod]
"""

THREE = """\
name: gw
document: {operation: firmware-update, version: 2.6.0}
waves:
  - name: canary
    targets: [thinggroup/gw-canary]
  - name: mid
    targets: [thinggroup/gw-mid]
  - name: all
    targets: [thinggroup/gw-prod]
"""


def _applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: str) -> None:
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path, {"gw.yaml": manifest})
    assert CliRunner().invoke(main, ["apply", "--sandbox", "--auto-approve"]).exit_code == 0


def test_status_waves__pending_wave__does_not_say_run_apply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _applied(tmp_path, monkeypatch, WAVES)
    # apply now would create nothing: the canary's gate waits
    plan = CliRunner().invoke(main, ["plan", "--sandbox", "--detailed-exitcode"])
    assert plan.exit_code == 0, plan.output
    status = CliRunner().invoke(main, ["status", "--sandbox"])
    assert status.exit_code == 0, status.output
    block = status.output.split("gw/all")[1].split("\n\n")[0]
    assert "run apply" not in block, status.output
    assert "not created yet: it waits for the gate of wave canary: " in block, block
    assert "more succeeded needed" in block, block
    assert status.output.rstrip().endswith("0 of 1 rollouts finished (0 of 2 waves).")


def test_status_waves__gateless_waves__each_waits_for_the_one_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _applied(tmp_path, monkeypatch, THREE)
    done = CliRunner().invoke(main, ["status", "--sandbox", "-o", "json"])
    rollouts = {r["name"]: r for r in json.loads(done.stdout)["data"]["rollouts"]}
    assert "waitsFor" not in rollouts["gw/canary"]  # created: its own bar says how far
    assert rollouts["gw/mid"]["waitsFor"].startswith("wave canary to complete: its job is ")
    assert rollouts["gw/all"]["waitsFor"] == "wave mid (not created yet either)"
