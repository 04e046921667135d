"""The GitHub workflows lint clean, and every `rollouts ...` line in them parses with the
real CLI, so a renamed flag breaks this build rather than the first pull request."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from engine.cli import main

from ..conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SHELL_BREAKS = {">", ">>", "|", "&&", "||", ";", "2>&1"}


def test_actionlint_passes_on_every_workflow() -> None:
    beside = Path(sys.executable).parent / "actionlint"  # the venv's, even if not on PATH
    binary = str(beside) if beside.exists() else shutil.which("actionlint")
    assert binary, "actionlint is a test dependency (pip install -e '.[test]')"
    done = subprocess.run([binary, *map(str, WORKFLOWS)], cwd=REPO, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _command_lines() -> list[tuple[str, list[str]]]:
    found = []
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    words = shlex.split(line, comments=True)
                    if words and words[0] == "rollouts":
                        cut = next((i for i, w in enumerate(words) if w in SHELL_BREAKS),
                                   len(words))
                        found.append((f"{path.name}: {line.strip()}", words[1:cut]))
    return found


COMMANDS = _command_lines()


def test_the_workflows_run_plan_validate_and_apply() -> None:
    assert {args[0] for _, args in COMMANDS} >= {"validate", "plan", "apply"}


@pytest.mark.parametrize("label,args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_workflow_command_line__parses_with_the_real_cli(label: str, args: list[str]) -> None:
    command = main.get_command(click.Context(main), args[0])
    assert command is not None, f"{label}: no command {args[0]}"
    command.make_context(args[0], list(args[1:]))  # raises on an unknown option or value


def test_workflows__least_privilege_and_no_secrets_on_forks() -> None:
    plan = yaml.safe_load((REPO / ".github/workflows/plan.yml").read_text())
    apply = yaml.safe_load((REPO / ".github/workflows/apply.yml").read_text())
    triggers = plan[True]  # PyYAML reads the key `on` as True
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    assert "github.repository" in plan["jobs"]["plan"]["if"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write",
                                   "pull-requests": "write"}
    assert apply["permissions"] == {"contents": "read", "id-token": "write"}
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert apply["jobs"]["apply"]["environment"] == "rollouts"
    text = "".join(p.read_text() for p in WORKFLOWS)
    assert "secrets." not in text and "aws-access-key-id" not in text


def test_readme_names_the_workflow_variables() -> None:
    readme = (REPO / "README.md").read_text()
    for variable in ("ROLLOUTS_PLAN_ROLE_ARN", "ROLLOUTS_APPLY_ROLE_ARN", "AWS_REGION"):
        assert variable in readme
    assert Path(REPO / "iam" / "apply-policy.json").exists()


def test_gates_workflow__applies_every_15_minutes_in_the_applys_concurrency_group() -> None:
    gates = yaml.safe_load((REPO / ".github/workflows/gates.yml").read_text())
    apply = yaml.safe_load((REPO / ".github/workflows/apply.yml").read_text())
    assert gates[True]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert gates["concurrency"] == apply["concurrency"]
    assert gates["permissions"] == apply["permissions"]
    steps = " ".join(s.get("run", "") for s in gates["jobs"]["apply"]["steps"])
    assert "rollouts apply rollouts --auto-approve" in steps
