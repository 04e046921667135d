"""What the CI tests share: this working tree as a repository of one commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import REPO

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost",
       "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def this_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as one commit (try-repo of a dirty tree would leave out files git
    does not track yet)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    copy = tmp_path_factory.mktemp("iot-rollouts")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "snapshot")
    return copy
