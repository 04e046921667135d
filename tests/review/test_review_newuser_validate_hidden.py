"""Review (newuser): an out-of-range value hides the rules between fields of the same
object. The README: "All problems of all files are reported in one run". A user fixes the
two reported errors and only then meets the two hidden ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

MANIFEST = """\
targets: [thinggroup/gw]
document: {op: x}
schedulingConfig:
  startTime: "2027-01-01T00:00"
  maintenanceWindows:
    - {startTime: cron(0 22 * * * *), durationInMinutes: 1500}
jobExecutionsRolloutConfig:
  exponentialRate:
    baseRatePerMinute: 10
    incrementFactor: 1.05
    rateIncreaseCriteria: {numberOfNotifiedThings: 5, numberOfSucceededThings: 5}
"""


def paths(root: Path) -> set[str]:
    done = CliRunner().invoke(main, ["validate", str(root), "-o", "json"])
    body = json.loads(done.stdout)
    assert done.exit_code == 1
    return {d["path"] for d in body["error"]["details"] if d["severity"] == "error"}


def test_review_newuser__range_error__hides_none_of_the_same_objects_rules(
        write_tree: Callable[[dict[str, str]], Path]) -> None:
    found = paths(write_tree({"gw.yaml": MANIFEST}))
    # reported today:
    assert "schedulingConfig.maintenanceWindows[0].durationInMinutes" in found
    assert "jobExecutionsRolloutConfig.exponentialRate.incrementFactor" in found
    # hidden today (each reported when the range error beside it is fixed):
    assert "schedulingConfig.maintenanceWindows[0].startTime" in found
    assert "jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria" in found
