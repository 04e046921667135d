"""The code stays lint-clean (ruff) and type-clean (mypy, strict on engine/)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "ruff", "check", "engine", "tests"],
    [sys.executable, "-m", "mypy"],
], ids=["ruff", "mypy"])
def test_tool_passes(command: list[str]) -> None:
    if shutil.which(command[0]) is None:  # pragma: no cover - the interpreter is always there
        pytest.fail(f"{command[0]} not found")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
