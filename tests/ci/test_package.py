"""The built package ships what `rollouts init` reads at run time: the scaffold's
templates are package data, in the wheel pip builds from a commit of this repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ..conftest import REPO


@pytest.mark.slow
def test_wheel__holds_every_scaffold_template(this_project: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(tmp_path), str(this_project)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = tmp_path.glob("iot_rollouts-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted((REPO / "engine/scaffold/templates").iterdir())
    assert len(templates) >= 8
    for template in templates:
        assert f"engine/scaffold/templates/{template.name}" in shipped, template.name
