"""``engine.validate``: a number out of its bounds hides none of the rules between the other
fields of its object (the README: "All problems of all files are reported in one run").

The first test is the reviewer's (newuser): a user fixed the two reported errors and only
then met the two hidden ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

Tree = Callable[[dict[str, str]], Path]

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


def _errors(root: Path) -> dict[str, str]:
    """Each error's path -> its message."""
    done = CliRunner().invoke(main, ["validate", str(root), "-o", "json"])
    body = json.loads(done.stdout)
    assert done.exit_code == 1, done.stdout
    return {d["path"]: d["message"] for d in body["error"]["details"]
            if d["severity"] == "error"}


def test_validate__range_error__hides_none_of_the_same_objects_rules(write_tree: Tree) -> None:
    found = _errors(write_tree({"gw.yaml": MANIFEST}))
    assert "schedulingConfig.maintenanceWindows[0].durationInMinutes" in found
    assert "jobExecutionsRolloutConfig.exponentialRate.incrementFactor" in found
    # each was hidden until the range error beside it was fixed:
    assert "exactly one of day-of-month and day-of-week" in \
        found["schedulingConfig.maintenanceWindows[0].startTime"]
    assert "give exactly one of numberOfNotifiedThings" in \
        found["jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria"]


def test_validate__abort_threshold_out_of_range__repeated_failure_type_still_reported(
        write_tree: Tree) -> None:
    found = _errors(write_tree({"a.yaml": (
        "targets: [thing/a]\ndocument: {op: x}\nabortConfig:\n  criteriaList:\n"
        "    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 200,"
        " minNumberOfExecutedThings: 0}\n"
        "    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 10,"
        " minNumberOfExecutedThings: 5}\n")}))
    assert set(found) == {"abortConfig.criteriaList[0].thresholdPercentage",
                          "abortConfig.criteriaList[0].minNumberOfExecutedThings",
                          "abortConfig.criteriaList[1].failureType"}
    assert "already used by criteriaList[0]" in found["abortConfig.criteriaList[1].failureType"]


def test_validate__retries_out_of_range__repeated_failure_type_reported_total_not_guessed(
        write_tree: Tree) -> None:
    found = _errors(write_tree({"r.yaml": (
        "targets: [thing/a]\ndocument: {op: x}\njobExecutionsRetryConfig:\n  criteriaList:\n"
        "    - {failureType: FAILED, numberOfRetries: 11}\n"
        "    - {failureType: FAILED, numberOfRetries: 3}\n")}))
    # the total over criteriaList read the number out of range: its range error says it
    assert set(found) == {"jobExecutionsRetryConfig.criteriaList[0].numberOfRetries",
                          "jobExecutionsRetryConfig.criteriaList[1].failureType"}


def test_validate__timeout_out_of_range__other_keys_rules_still_run(write_tree: Tree) -> None:
    found = _errors(write_tree({"t.yaml": (
        "targets: [thing/a, thing/a]\ndocument: {op: x}\n"
        "timeoutConfig: {inProgressTimeoutInMinutes: 0}\n"
        "schedulingConfig: {endTime: '2027-01-01T00:00'}\n")}))
    assert set(found) == {"timeoutConfig.inProgressTimeoutInMinutes", "targets[1]",
                          "schedulingConfig.endTime"}


def test_validate__wave_gate_out_of_range__the_waves_other_rules_still_run(
        write_tree: Tree) -> None:
    found = _errors(write_tree({"w.yaml": (
        "document: {op: x}\nwaves:\n"
        "  - {name: canary, targets: [thing/a], gate: {maxFailedPercent: 200, minExecuted: 5}}\n"
        "  - {name: canary, targets: [thing/b]}\n")}))
    assert set(found) == {"waves[0].gate.maxFailedPercent", "waves[1].name"}


def test_validate__number_out_of_range_and_rule_on_it__only_the_range_error(
        write_tree: Tree) -> None:
    # duration 0 and a cron AWS refuses: both errors are the window's own, each at its key
    found = _errors(write_tree({"m.yaml": (
        "targets: [thing/a]\ndocument: {op: x}\nschedulingConfig:\n"
        "  startTime: '2027-01-01T00:00'\n  maintenanceWindows:\n"
        "    - {startTime: cron(0 22 ? * * *), durationInMinutes: 0}\n")}))
    assert set(found) == {"schedulingConfig.maintenanceWindows[0].durationInMinutes"}


def test_validate__object_with_range_and_type_errors__other_objects_rules_still_run(
        write_tree: Tree) -> None:
    # abortConfig has a range error and a type error: it is left out, the others still run
    manifest = MANIFEST + ("abortConfig: {criteriaList: [{failureType: FAIL, action: CANCEL,"
                           " thresholdPercentage: 200, minNumberOfExecutedThings: 1}]}\n")
    found = _errors(write_tree({"gw.yaml": manifest}))
    assert "schedulingConfig.maintenanceWindows[0].startTime" in found  # its range error's
    assert any(path.startswith("abortConfig.criteriaList[0]") for path in found), found
