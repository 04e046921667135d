"""What the workflow tests share: actionlint, the `rollouts ...` lines of a workflow, and
the reusable workflows' declared inputs and their callers."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from engine.cli import main

SHELL_BREAKS = {">", ">>", "|", "&&", "||", ";", "2>&1"}


def actionlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """actionlint over ``files``, run in ``cwd`` (the repository: it resolves a local
    reusable workflow from there)."""
    beside = Path(sys.executable).parent / "actionlint"  # the venv's, even if not on PATH
    binary = str(beside) if beside.exists() else shutil.which("actionlint")
    assert binary, "actionlint is a test dependency (pip install -e '.[test]')"
    return subprocess.run([binary, *map(str, files)], cwd=cwd, capture_output=True,
                          text=True, check=False)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True)  # PyYAML reads the key `on` as True
    return dict(data)


def command_lines(paths: list[Path]) -> list[tuple[str, list[str]]]:
    """``(label, arguments after "rollouts")`` for every `rollouts ...` line of the steps."""
    found = []
    for path in paths:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    words = shlex.split(line, comments=True)
                    if words and words[0] == "rollouts":
                        cut = next((i for i, w in enumerate(words) if w in SHELL_BREAKS),
                                   len(words))
                        found.append((f"{path.name}: {line.strip()}", words[1:cut]))
    return found


def parse_with_the_real_cli(label: str, args: list[str]) -> None:
    """Raise (click's usage error) if the line names an unknown command, option or value."""
    command = main.get_command(click.Context(main), args[0])
    assert command is not None, f"{label}: no command {args[0]}"
    command.make_context(args[0], list(args[1:]))


def reusable_inputs(path: Path) -> dict[str, dict[str, Any]]:
    return dict(load(path)["on"]["workflow_call"].get("inputs") or {})


def calls(paths: list[Path]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """``(caller file, the reusable workflow's file name, with:, the calling job)`` of every
    job that calls a reusable workflow."""
    found = []
    for path in paths:
        for job in load(path)["jobs"].values():
            if "uses" in job:
                called = job["uses"].split("@")[0].rsplit("/", 1)[-1]
                found.append((path.name, called, dict(job.get("with") or {}), job))
    return found
