"""The shell of the reusable workflows' steps, run with bash as the runner would, with
stand-ins for `python` and `rollouts` on PATH: what gets installed, when a version is
refused, and what the steps write to $GITHUB_OUTPUT from the plan's and apply's exit code
and first line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REPO
from .lint import load

WORKFLOWS = REPO / ".github" / "workflows"


def step(workflow: str, name: str) -> str:
    job = next(iter(load(WORKFLOWS / workflow)["jobs"].values()))
    return str(next(s for s in job["steps"] if s.get("name") == name)["run"])


def stand_in(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{script}\n")
    path.chmod(0o755)


def run(script: str, tmp_path: Path, rollouts: str, **env: str) -> tuple[Any, dict[str, str]]:
    """Run ``script``; the stand-in ``rollouts`` runs ``rollouts`` (bash), ``python``
    records its arguments. Returns the process and what it wrote to $GITHUB_OUTPUT."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    stand_in(bin_, "python", f'echo "$@" >> {tmp_path}/python.log')
    stand_in(bin_, "rollouts", rollouts)
    output, summary = tmp_path / "output", tmp_path / "summary"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True,
        check=False, env={"PATH": f"{bin_}:{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path),
                          "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                          "FOLDER": "rollouts", **env})
    written = dict(line.split("=", 1) for line in
                   (output.read_text().splitlines() if output.exists() else []))
    return done, written


@pytest.mark.parametrize("env,installed,reported,code", [
    ({"PACKAGE": ".", "VERSION": ""}, "-m pip install .", "0.1.0", 0),
    ({"PACKAGE": "", "VERSION": "0.1.0"}, "-m pip install iot-rollouts==0.1.0", "0.1.0", 0),
    ({"PACKAGE": "git+https://x/y@v0.2.0", "VERSION": "0.2.0"},
     "-m pip install git+https://x/y@v0.2.0", "0.2.0", 0),
    ({"PACKAGE": "", "VERSION": "0.2.0"}, "-m pip install iot-rollouts==0.2.0", "0.1.0", 1),
    ({"PACKAGE": "", "VERSION": ""}, None, "0.1.0", 1),
], ids=["checkout", "index", "git", "version-mismatch", "neither"])
def test_install_step__installs_what_the_inputs_say(
        tmp_path: Path, env: dict[str, str], installed: str | None, reported: str,
        code: int) -> None:
    done, _ = run(step("reusable-plan.yml", "Install iot-rollouts"), tmp_path,
                  f'echo "rollouts, version {reported}"', **env)
    assert done.returncode == code, done.stdout + done.stderr
    log = tmp_path / "python.log"
    assert (log.read_text().strip() if log.exists() else None) == installed
    if code:
        assert "::error::" in done.stdout


@pytest.mark.parametrize("exit_code", [0, 1, 2])
def test_plan_step__outputs_the_exit_code_and_the_first_line(
        tmp_path: Path, exit_code: int) -> None:
    heading = "### ✅ Plan: 1 to create" if exit_code != 1 else "### ❌ Plan failed: 1 error"
    rollouts = (f'for a in "$@"; do [ "$prev" = --out ] && echo "{{}}" > "$a"; prev="$a"; '
                f'done\necho "<!-- iot-rollouts:plan -->"\necho "{heading}"\nexit {exit_code}')
    done, written = run(step("reusable-plan.yml", "Plan"), tmp_path, rollouts)
    assert done.returncode == 0, done.stderr  # the last step fails the job, not this one
    assert written["exitcode"] == str(exit_code)
    assert written["summary"] == heading.removeprefix("### ")
    assert written["saved"] == "true"
    assert heading in (tmp_path / "summary").read_text()


def test_plan_step__nothing_printed__says_where_to_look(tmp_path: Path) -> None:
    done, written = run(step("reusable-plan.yml", "Plan"), tmp_path, "exit 1")
    assert done.returncode == 0
    assert written["exitcode"] == "1" and "see the log" in written["summary"]
    assert "saved" not in written


@pytest.mark.parametrize("exit_code", [0, 1])
def test_apply_step__outputs_and_exits_with_the_applys_code(
        tmp_path: Path, exit_code: int) -> None:
    heading = "### ✅ Applied: 1 to create" if not exit_code else "### ❌ Apply failed: 1 of 1"
    done, written = run(step("reusable-apply.yml", "Apply"), tmp_path,
                        f'echo "{heading}"\nexit {exit_code}')
    assert done.returncode == exit_code
    assert written == {"exitcode": str(exit_code), "summary": heading.removeprefix("### ")}
