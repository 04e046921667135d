"""``rollouts init``: into a fresh git repository it writes a scaffold that passes actionlint
and ``validate`` at once, whose workflows call this repository's reusable workflows at the
installed version with inputs they declare; it keeps what exists unless ``--force``; with
``-o json`` it prints one envelope; every bad target is one clear error."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from engine import __version__
from engine.cli import main
from engine.scaffold import REPOSITORY

from .ci.lint import actionlint, calls, command_lines, parse_with_the_real_cli, reusable_inputs
from .conftest import REPO

WORKFLOWS = (".github/workflows/rollouts-plan.yml", ".github/workflows/rollouts-apply.yml",
             ".github/workflows/rollouts-gates.yml")


def git_repo(path: Path, origin: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", origin], check=True)
    return path


def init(*args: str) -> Result:
    result = CliRunner().invoke(main, ["init", *args])
    assert "Traceback" not in result.stdout + result.stderr
    return result


def validate(folder: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["validate", str(folder), "-o", "json"])
    body: dict[str, Any] = json.loads(result.stdout)
    assert body["success"] is (result.exit_code == 0), body
    return body


def outcomes(result: Result) -> dict[str, str]:
    data = json.loads(result.stdout)["data"]
    return {f["path"]: f["outcome"] for f in data["files"]}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_repo(tmp_path / "fleet", origin="git@github.com:acme/fleet-rollouts.git")


def test_init__fresh_git_repo__actionlint_and_validate_pass(repo: Path) -> None:
    result = init(str(repo), "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    workflows = [repo / w for w in WORKFLOWS]
    assert all(w.is_file() for w in workflows)
    linted = actionlint(workflows, repo)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    body = validate(repo / "rollouts")
    assert body["success"] and not body["data"]["warnings"], body
    assert [j["name"] for j in body["data"]["jobs"]] == ["example"]
    config = (repo / "rollouts/_config.yaml").read_text()
    assert "project: fleet-rollouts\n" in config and "region: eu-west-1\n" in config
    assert "\n# ledger: s3://" in config  # the placeholder, commented out
    # Every `rollouts` line that runs for these workflows: theirs, and those of the reusable
    # workflows they call (this repository's, at the version they pin).
    called = sorted({REPO / ".github/workflows" / name for _, name, _, _ in calls(workflows)})
    lines = command_lines(workflows + called)
    assert {args[0] for _, args in lines} == {"validate", "plan", "apply"}
    for line in lines:
        parse_with_the_real_cli(*line)


def test_init__workflows__call_this_repositorys_reusable_ones_at_the_installed_version(
        repo: Path) -> None:
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0
    found = calls([repo / w for w in WORKFLOWS])
    assert sorted(called for _, called, _, _ in found) == [
        "reusable-apply.yml", "reusable-apply.yml", "reusable-plan.yml"]
    for caller, called, given, job in found:
        assert job["uses"] == f"{REPOSITORY}/.github/workflows/{called}@v{__version__}"
        declared = reusable_inputs(REPO / ".github/workflows" / called)
        required = {name for name, spec in declared.items() if spec.get("required")}
        assert required <= set(given) <= set(declared), caller
        assert given["version"] == __version__ and given["folder"] == "rollouts"
    text = "".join((repo / w).read_text() for w in WORKFLOWS)
    assert '"rollouts/**"' in text and "secrets." not in text


def test_init__example__plans_one_create_in_the_sandbox(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["plan", "--sandbox", "-o", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["data"]["summary"]
    assert summary["create"] == 1 and summary["conflict"] == 0


def test_init__github_origin__trust_policies_name_the_repository(repo: Path) -> None:
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0

    def subject(role: str) -> str:
        policy = json.loads((repo / f"iam/rollouts-{role}-trust.json").read_text())
        return str(policy["Statement"][0]["Condition"]["StringLike"][
            "token.actions.githubusercontent.com:sub"])

    assert subject("plan") == "repo:acme/fleet-rollouts:pull_request"
    assert subject("apply") == "repo:acme/fleet-rollouts:environment:rollouts"
    for role in ("plan", "apply"):
        shipped = (REPO / f"iam/{role}-policy.json").read_text()
        assert (repo / f"iam/rollouts-{role}-policy.json").read_text() == shipped


def test_init__again__keeps_every_file_and_exits_0(repo: Path) -> None:
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0
    config = repo / "rollouts/_config.yaml"
    config.write_text("project: mine\nregion: ap-south-1\n")
    result = init(str(repo), "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 0
    assert config.read_text() == "project: mine\nregion: ap-south-1\n"
    assert set(outcomes(result).values()) == {"kept", "unchanged"}
    data = json.loads(result.stdout)["data"]
    assert (data["project"], data["region"]) == ("mine", "ap-south-1")  # what the file says
    assert any("--force overwrites" in note for note in data["notes"])
    assert any("region eu-west-1 is not written" in note for note in data["notes"])
    text = init(str(repo), "--region", "eu-west-1")
    assert "= rollouts/_config.yaml  (exists: kept, --force or not: it names the project)" \
        in text.stdout
    assert "= .github/workflows/rollouts-plan.yml  (exists: kept; --force overwrites it)" \
        in text.stdout


def test_init__force__overwrites_what_exists(repo: Path) -> None:
    plan = repo / WORKFLOWS[0]
    plan.parent.mkdir(parents=True)
    plan.write_text("name: mine\n")
    result = init(str(repo), "--force", "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 0
    assert outcomes(result)[WORKFLOWS[0]] == "overwritten"
    assert outcomes(result)[WORKFLOWS[1]] == "written"
    assert "reusable-plan.yml" in plan.read_text()


def test_init__folder_with_manifests__writes_no_example(repo: Path) -> None:
    (repo / "rollouts").mkdir()
    (repo / "rollouts/fw.yaml").write_text("targets: [thing/a]\ndocument: {v: 1}\n")
    result = init(str(repo), "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 0
    assert not (repo / "rollouts/example.yaml").exists()
    assert "rollouts/example.yaml" not in outcomes(result)
    assert any("no example written" in n for n in json.loads(result.stdout)["data"]["notes"])
    assert validate(repo / "rollouts")["success"]


def test_init__gitignore__sandbox_state_added_once(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.pyc")
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0
    assert init(str(repo), "--region", "eu-west-1").exit_code == 0
    lines = (repo / ".gitignore").read_text().splitlines()
    assert lines[0] == "*.pyc" and lines.count(".rollouts-sandbox/") == 1


def test_init__subfolder_of_a_repository__workflows_at_the_top_read_its_folder(
        tmp_path: Path) -> None:
    top = git_repo(tmp_path / "mono")
    result = init(str(top / "devices"), "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert data["folder"] == "devices/rollouts" and data["project"] == "devices"
    assert (top / ".github/workflows/rollouts-plan.yml").is_file()
    assert (top / "devices/iam/rollouts-plan-policy.json").is_file()
    for _, _, given, _ in calls([top / w for w in WORKFLOWS]):
        assert given["folder"] == "devices/rollouts"
    assert '"devices/rollouts/**"' in (top / WORKFLOWS[0]).read_text()
    linted = actionlint([top / w for w in WORKFLOWS], top)
    assert linted.returncode == 0, linted.stdout
    assert validate(top / "devices/rollouts")["success"]


def test_init__no_git_repository__writes_and_says_so(tmp_path: Path) -> None:
    result = init(str(tmp_path / "new"), "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)["data"]
    assert data["inGit"] is False and data["project"] == "new"
    assert any("not in a git repository" in n for n in data["notes"])
    assert data["nextSteps"][0]["commands"] == ["git init"]
    trust = (tmp_path / "new/iam/rollouts-plan-trust.json").read_text()
    assert "repo:OWNER/REPO:pull_request" in trust


def test_init__no_region__us_east_1_with_a_note(repo: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    assert json.loads(init(str(repo), "-o", "json").stdout)["data"]["region"] == "ca-central-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    (repo / "rollouts/_config.yaml").unlink()
    data = json.loads(init(str(repo), "-o", "json").stdout)["data"]
    assert data["region"] == "us-east-1" and any("us-east-1" in n for n in data["notes"])
    assert "region: us-east-1\n" in (repo / "rollouts/_config.yaml").read_text()


def test_init__json__one_envelope_with_the_next_steps(repo: Path) -> None:
    result = init(str(repo), "--region", "eu-west-1", "-o", "json")
    body = json.loads(result.stdout)  # exactly one document
    assert body["success"] is True and result.exit_code == 0
    data = body["data"]
    assert data["workflowsCall"] == f"{REPOSITORY}@v{__version__}"
    assert set(outcomes(result).values()) == {"written"}
    commands = " ".join(c for step in data["nextSteps"] for c in step["commands"])
    for needed in ("create-open-id-connect-provider", "file://iam/rollouts-apply-trust.json",
                   "gh variable set ROLLOUTS_PLAN_ROLE_ARN", "AWS_REGION --body eu-west-1",
                   "rev: v" + __version__):
        assert needed in commands


@pytest.mark.parametrize("args,message", [
    (["--region", "Europe"], "not a region name"),
    (["--project", "my project"], "letters, digits"),
    (["--branch", "a b"], "git refuses spaces"),
])
def test_init__bad_option__config_error(repo: Path, args: list[str], message: str) -> None:
    result = init(str(repo), *args, "-o", "json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "CONFIG_ERROR" and message in error["message"]
    assert not (repo / "rollouts").exists()


def test_init__empty_directory_argument__usage_error_and_nothing_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = init("", "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "CONFIG_ERROR"
    assert list(tmp_path.iterdir()) == []


def test_init__target_is_a_file__one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = init(str(tmp_path / "file"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {tmp_path / 'file'}: not a folder; "
                                          "name the repository's folder"]


def test_init__a_folder_where_a_file_goes__config_error_and_nothing_written(
        repo: Path) -> None:
    (repo / "iam/rollouts-apply-trust.json").mkdir(parents=True)
    result = init(str(repo), "--region", "eu-west-1", "-o", "json")
    assert result.exit_code == 1
    assert "a folder is in the place" in json.loads(result.stdout)["error"]["message"]
    assert not (repo / "rollouts").exists() and not (repo / ".github").exists()


def test_repository_constant__is_pyprojects_repository_url() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()  # tomllib is not in Python 3.10
    urls = pyproject[pyproject.index("[project.urls]"):].split("\n\n", 1)[0]
    assert re.findall(r'^Repository = "(.*)"$', urls, re.M) == [
        f"https://github.com/{REPOSITORY}"]


def test_scaffolds_policies__are_the_repositorys_iam_files() -> None:
    templates = REPO / "engine/scaffold/templates"
    for name in ("plan-policy.json", "apply-policy.json", "github-oidc-trust.json"):
        assert (templates / name).read_text() == (REPO / "iam" / name).read_text(), name


def test_init__folder_name_with_an_accented_letter__validates_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The project is made of the folder's name in ASCII ("my-repo-n"), which validates.
    repo = git_repo(tmp_path / "my repo ñ")
    monkeypatch.chdir(repo)
    assert CliRunner().invoke(main, ["init", "--region", "eu-west-1"]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", "rollouts", "-o", "json"])
    assert result.exit_code == 0, result.stdout


def test_init__force_to_upgrade__keeps_project_region_and_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The upgrade path: --force rewrites the workflows and IAM files, never _config.yaml
    # (a new project or region would start every rollout again).
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
    # A file where init needs a folder is refused before anything is written.
    repo = git_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    (repo / ".github").mkdir()
    (repo / ".github" / "workflows").write_text("")
    result = CliRunner().invoke(main, ["init", "--region", "eu-west-1", "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "CONFIG_ERROR"
    assert not (repo / "rollouts").exists(), sorted(p.name for p in repo.iterdir())
