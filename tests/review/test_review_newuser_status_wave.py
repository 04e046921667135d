"""Review (newuser): `rollouts status` says of a wave whose gate is still waiting
"not created yet: run apply", but apply creates nothing then (the plan says
"pending after canary"). The hint should say what the wave waits for."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from ..conftest import make_repo

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


def test_review_newuser__status_pending_wave__does_not_say_run_apply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path, {"gw.yaml": WAVES})
    assert CliRunner().invoke(main, ["apply", "--sandbox", "--auto-approve"]).exit_code == 0
    # apply now would create nothing: the canary's gate waits
    plan = CliRunner().invoke(main, ["plan", "--sandbox", "--detailed-exitcode"])
    assert plan.exit_code == 0, plan.output
    status = CliRunner().invoke(main, ["status", "--sandbox"])
    assert status.exit_code == 0, status.output
    block = status.output.split("gw/all")[1]
    assert "run apply" not in block.split("\n\n")[0], status.output
