"""Folders with a ``_policies.yaml`` for the policy tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.errors import Problem
from engine.policies.engines import RustEngine, cel_engine
from engine.validate import Validation, validate_folder

# cel-python (Python 3.10) compares a whole number with a decimal only through double().
rust_only = pytest.mark.skipif(not isinstance(cel_engine(), RustEngine),
                               reason="cel-python refuses int/double comparisons")

NOW = None  # the policy tests need no clock rules

# One job with something for each family of operators to read.
JOB = """\
targets: [thinggroup/prod-eu, thing/lab-1]
document:
  operation: firmware-update
  version: 2.4.0
  reboot: true
  steps: [{name: a, size: 3}, {name: b, size: 5}]
abortConfig:
  criteriaList:
    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 5,
       minNumberOfExecutedThings: 50}
jobExecutionsRolloutConfig: {maximumPerMinute: 100}
tags: {team: firmware, env: prod}
"""


def policies_yaml(*policies: dict[str, str]) -> str:
    """A _policies.yaml of ``policies`` (each a mapping of its keys), one key a line."""
    lines = ["policies:"]
    for policy in policies:
        first = True
        for key, value in policy.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {json.dumps(value)}")
            first = False
    return "\n".join(lines) + "\n"


def write(base: Path, files: dict[str, str]) -> Path:
    """A repository at ``base`` whose rollouts folder holds ``files``; the folder."""
    (base / ".git").mkdir(parents=True, exist_ok=True)
    root = base / "rollouts"
    root.mkdir(exist_ok=True)
    files = {"_config.yaml": "project: guard\nregion: eu-west-1\n", **files}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def judged(base: Path, files: dict[str, str]) -> Validation:
    """The folder validated from ``base``, so that files are named ``rollouts/...``."""
    root = write(base, files)
    here = os.getcwd()
    os.chdir(base)
    try:
        return validate_folder(root)
    finally:
        os.chdir(here)


def ids_broken(result: Validation) -> set[str]:
    """The ids of the policies the folder's jobs break (errors and warnings)."""
    found = set()
    for problem in result.problems:
        if problem.code == "POLICY_VIOLATION":
            found.add(problem.message.split("policy ", 1)[1].split(":", 1)[0])
    return found


def lines(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]
