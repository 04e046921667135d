"""The `rollouts-validate` pre-commit hook, as another repository uses it: pre-commit's own
`try-repo` installs this project from a commit of it (into pre-commit's isolated
environment, as `language: python` does) and runs the hook in a repository with a rollouts
folder: it passes on a good folder and fails, showing the problems, on a bad one.

Each try-repo installs the package with its dependencies (about 15 s here, where pip reads
the machine's package mirror; CI reaches the package index)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .conftest import git

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
GOOD = "targets: [thing/a]\ndocument: {v: 1}\n"
BAD = "targets: [thing/a]\ndocumnt: {v: 1}\n"


def try_repo(project: Path, user: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(project), "rollouts-validate",
         "--all-files", "--color", "never"],
        cwd=user, capture_output=True, text=True, timeout=600, check=False,
        # GIT_* of an outer git (a test run from a hook) would point git at another repo.
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
             "PRE_COMMIT_HOME": str(home)})


def user_repository(path: Path, manifest: str) -> Path:
    (path / "rollouts").mkdir(parents=True)
    (path / "rollouts/_config.yaml").write_text("project: hooked\nregion: eu-west-1\n")
    (path / "rollouts/fw.yaml").write_text(manifest)
    (path / "README.md").write_text("a repository that uses the hook\n")
    git(path, "init", "-q")
    git(path, "add", "-A")
    return path


@pytest.mark.slow
def test_hook__try_repo_on_a_good_folder__passes(this_project: Path, tmp_path: Path) -> None:
    done = try_repo(this_project, user_repository(tmp_path / "user", GOOD), tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"rollouts validate\.+Passed", done.stdout), done.stdout


@pytest.mark.slow
def test_hook__try_repo_on_a_bad_folder__fails_with_the_problem(
        this_project: Path, tmp_path: Path) -> None:
    done = try_repo(this_project, user_repository(tmp_path / "user", BAD), tmp_path / "home")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"rollouts validate\.+Failed", done.stdout), done.stdout
    assert "rollouts/fw.yaml:2:1: documnt: unknown key documnt; did you mean document?" \
        in done.stdout


def test_hook_manifest__pre_commit_accepts_it() -> None:
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                           str(REPO / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hook__runs_rollouts_validate_once_for_the_rollouts_folders_files() -> None:
    [hook] = HOOKS
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "rollouts-validate", "rollouts validate", "python")
    assert hook["pass_filenames"] is False  # validate reads the whole folder, never a file
    files = re.compile(hook["files"])
    for path in ("rollouts/fw.yaml", "rollouts/firmware/_defaults.yml",
                 "rollouts/firmware/documents/ota.json", "rollouts/_config.yaml"):
        assert files.search(path), path
    for path in ("README.md", "src/rollouts.yaml", "docs/rollouts/x.md", ".github/x.yml"):
        assert not files.search(path), path
