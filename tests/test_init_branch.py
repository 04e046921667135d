"""`rollouts init --branch` refuses, as a CONFIG_ERROR with nothing written, a name git refuses
and one holding a GitHub expression (the workflows written would fail actionlint)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.mark.parametrize("branch", ["a..b", "main.lock", "-x", "${{x}}"])
def test_init__branch_git_or_github_refuses__config_error_and_nothing_written(
        tmp_path: Path, branch: str) -> None:
    # git itself refuses the first three (`git check-ref-format --branch`); the last is a
    # name git allows but GitHub evaluates as an expression inside the workflows written.
    repo = git_repo(tmp_path / "fleet")
    done = CliRunner().invoke(main, ["init", str(repo), "--region", "eu-west-1",
                                     "--branch", branch, "-o", "json"])
    body = json.loads(done.stdout)
    assert done.exit_code == 1, body
    assert body["error"]["code"] == "CONFIG_ERROR"
    assert not (repo / ".github").exists()
