"""Review (inputs): `rollouts init` in odd places, and --force as the README's upgrade path."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_init__folder_name_with_an_accented_letter__validates_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # README: "the folder passes `rollouts validate` as written". In "my repo ñ" init writes
    # project: "my-repo-ñ", which validate refuses ("only letters, digits, and _ . -").
    repo = git_repo(tmp_path / "my repo ñ")
    monkeypatch.chdir(repo)
    assert CliRunner().invoke(main, ["init", "--region", "eu-west-1"]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", "rollouts", "-o", "json"])
    assert result.exit_code == 0, result.stdout


def test_init__force_to_upgrade__keeps_project_region_and_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # README: "To upgrade, install the new version and run `rollouts init --force`". That
    # overwrites _config.yaml with the folder's name as project, the default region and no
    # ledger: every existing rollout becomes another project's job in another region, and
    # the next plan creates each one again (checked by hand with --sandbox: "+ create mine
    # (mine-..., us-east-1)" after an apply under project keep, eu-west-1).
    repo = git_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    (repo / "rollouts").mkdir()
    config = "project: keep\nregion: eu-west-1\nledger: s3://bucket/ledger.json\n"
    (repo / "rollouts" / "_config.yaml").write_text(config)
    result = CliRunner().invoke(main, ["init", "--force", "-o", "json"])
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)["data"]
    assert (data["project"], data["region"]) == ("keep", "eu-west-1"), data
    text = (repo / "rollouts" / "_config.yaml").read_text()
    assert "ledger: s3://bucket/ledger.json" in text, text


def test_init__a_file_where_a_folder_goes__config_error_and_nothing_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # README: "a folder where a file goes is a CONFIG_ERROR, and nothing is written". The
    # other way round (.github/workflows a file) gives "cannot write .../.github/workflows:
    # File exists" with no hint what to do, after rollouts/ was already written.
    repo = git_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    (repo / ".github").mkdir()
    (repo / ".github" / "workflows").write_text("")
    result = CliRunner().invoke(main, ["init", "--region", "eu-west-1", "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "CONFIG_ERROR"
    assert not (repo / "rollouts").exists(), sorted(p.name for p in repo.iterdir())
