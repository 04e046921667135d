"""Hostile inputs found by attacking issue 10's promises (output contract, complete
validation): each a clear error at its place, never the catch-all, never a wrong folder."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .test_cli import rollouts

Tree = Callable[[dict[str, str]], Path]
OK = "targets: [thing/a]\n"


def _validate_json(root: Path) -> dict:  # type: ignore[type-arg]
    done = rollouts("validate", str(root), "-o", "json")
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


# Inputs that reached the catch-all "unexpected ... (please report this)" with PLAN_ERROR
#    from `validate`, instead of a VALIDATION_ERROR at file:line:column with the field path
#    (and every other problem of the run is lost).
@pytest.mark.parametrize("files", [
    {"a.yaml": OK + 'documentFile: "a\\0b.json"\n'},                 # NUL in a path
    {"a.yaml": OK + "documentFile: " + "a" * 5000 + ".json\n"},    # name too long
    {"_config.yaml": "exclude: ['[z-a]']\n", "a.yaml": OK + "document: {a: 1}\n"},
], ids=["nul-byte", "name-too-long", "reversed-range-glob"])
def test_validate__odd_paths_and_globs__validation_error_at_line(write_tree: Tree,
                                                                 files: dict[str, str]) -> None:
    files = {**files, "b.yaml": OK + "document: {a: 1}\n"
                                     "timeoutConfig: {inProgressTimeoutInMinutes: 0}\n"}
    out = _validate_json(write_tree(files))
    assert out["error"]["code"] == "VALIDATION_ERROR", out
    assert "please report" not in out["error"]["message"]
    details = out["error"]["details"]
    assert any(d["file"].endswith("b.yaml") for d in details), details  # all problems, one run
    assert all(d["line"] > 0 and d["path"] for d in details), details


# 4. cron fields AWS rejects pass validation
@pytest.mark.parametrize("cron", ["cron(60 0 ? * MON *)", "cron(0 25 ? * MON *)",
                                  "cron(0 0 * * * *)", "cron(0 0 ? 13 MON *)",
                                  "cron(0 0 ? * FOO *)"])
def test_validate__impossible_cron__error(write_tree: Tree, cron: str) -> None:
    out = _validate_json(write_tree({"a.yaml": OK + "document: {a: 1}\nschedulingConfig:\n"
                                     "  startTime: '2030-01-01T00:00'\n  maintenanceWindows:\n"
                                     f"    - {{startTime: '{cron}', durationInMinutes: 60}}\n"}))
    assert out["success"] is False, out


# 5. A saved plan names an absolute folder: applied from another checkout, it plans and
#    applies the *other* checkout (and its sandbox), not the one it is run in.
def test_apply__plan_from_another_checkout__refused(tmp_path: Path) -> None:
    one = tmp_path / "one"
    (one / "rollouts").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(one)], check=True)
    (one / "rollouts/_config.yaml").write_text("project: p\nregion: eu-west-1\n")
    (one / "rollouts/a.yaml").write_text(OK + "document: {a: 1}\n")
    assert rollouts("plan", "--sandbox", "--out", "p.json", cwd=one).returncode == 0
    two = tmp_path / "two"
    shutil.copytree(one, two)
    (two / "rollouts/a.yaml").write_text(OK + "document: {a: 2}\n")
    done = rollouts("apply", "--sandbox", "p.json", "--auto-approve", "-o", "json", cwd=two)
    assert not (one / ".rollouts-sandbox/state.json").exists() or \
        "a-" not in (one / ".rollouts-sandbox/state.json").read_text(), \
        "apply in checkout two wrote to checkout one's sandbox"
    assert json.loads(done.stdout)["success"] is False


# 7. A malformed --endpoint-url is an AWS_ERROR at once (README), not 20 s of retries or an
#    "unexpected ValueError ... please report this" PLAN_ERROR.
@pytest.mark.parametrize("url", ["ftp://x", "http://127.0.0.1:99999"])
def test_plan__malformed_endpoint__aws_error_at_once(tmp_path: Path, url: str) -> None:
    import time
    repo = tmp_path / "repo"
    (repo / "rollouts").mkdir(parents=True)
    (repo / "rollouts/_config.yaml").write_text("project: p\nregion: eu-west-1\n")
    (repo / "rollouts/a.yaml").write_text(OK + "document: {a: 1}\n")
    t = time.monotonic()
    done = subprocess.run(["rollouts", "plan", "--endpoint-url", url, "-o", "json"], cwd=repo,
                          capture_output=True, text=True,
                          env={"PATH": __import__("os").environ["PATH"],
                               "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    err = json.loads(done.stdout)["error"]
    assert err["code"] == "AWS_ERROR" and "please report" not in err["message"], err
    assert time.monotonic() - t < 5


@pytest.mark.parametrize("damage", [{"jobId": 5}, {"createdAt": "garbage"}, {"tags": "x"}])
def test_sandbox__damaged_job_in_its_state__config_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: dict[str, object]) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    from .conftest import make_repo

    make_repo(tmp_path, {"a.yaml": OK + "document: {a: 1}\n"})
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["apply", "--sandbox", "--auto-approve"]).exit_code == 0
    path = tmp_path / ".rollouts-sandbox" / "state.json"
    state = json.loads(path.read_text())
    for jobs in state["regions"].values():
        jobs[0].update(damage)
    path.write_text(json.dumps(state))
    done = CliRunner().invoke(main, ["status", "--sandbox", "-o", "json"])
    body = json.loads(done.output)
    assert done.exit_code == 1 and body["error"]["code"] == "CONFIG_ERROR", body
    assert "damaged" in body["error"]["message"]


def test_plan__list_form_tag_with_null_value__is_dropped_not_sent_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import make_repo, sandbox_json

    make_repo(tmp_path, {"a.yaml": OK + "document: {a: 1}\n"
                                     "tags: [{Key: team, Value: null}, {Key: kept}]\n"})
    monkeypatch.chdir(tmp_path)
    (change,) = sandbox_json("plan")["changes"]
    tags = {t["Key"]: t["Value"] for t in change["request"]["tags"]}
    assert "team" not in tags and tags["kept"] == ""


def test_plan__out_inside_the_rollouts_folder__refused_and_no_manifest_touched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    from .conftest import make_repo

    root = make_repo(tmp_path, {"a.yaml": OK + "document: {a: 1}\n"})
    monkeypatch.chdir(tmp_path)
    before = (root / "a.yaml").read_text()
    done = CliRunner().invoke(main, ["plan", "--sandbox", "--out", "rollouts/a.yaml",
                                     "-o", "json"])
    body = json.loads(done.output)
    assert done.exit_code == 1 and body["error"]["code"] == "PLAN_ERROR", body
    assert (root / "a.yaml").read_text() == before


def test_validate__empty_document_file_name__says_so(write_tree: Tree) -> None:
    out = _validate_json(write_tree({"a.yaml": OK + "documentFile: ''\n"}))
    assert any(d["message"].startswith("documentFile is empty") for d in out["error"]["details"])


def test_apply__saved_plan_of_a_subfolder__applies_in_its_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    from .conftest import make_repo

    make_repo(tmp_path, {"fw/a.yaml": OK + "document: {a: 1}\n"})
    monkeypatch.chdir(tmp_path)
    saved = tmp_path / "plan.json"
    made = CliRunner().invoke(main, ["plan", "rollouts/fw", "--sandbox", "--out", str(saved)])
    assert made.exit_code == 0, made.output
    done = CliRunner().invoke(main, ["apply", str(saved), "--sandbox", "-o", "json"])
    body = json.loads(done.output)
    assert done.exit_code == 0 and body["success"] is True, body
    assert [c["action"] for c in body["data"]["changes"]] == ["create"]
