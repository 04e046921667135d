"""The ``rollouts`` command as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def rollouts(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_validate__example_folder_by_default__exits_0() -> None:
    done = rollouts("validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "jobs valid" in done.stdout


def test_validate__typo_and_out_of_range__name_file_line_and_field(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({"fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"
                                  "abortConfg: {}\ntimeoutConfig:\n"
                                  "  inProgressTimeoutInMinutes: 20000\n"})
    done = rollouts("validate", str(root))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.endswith("fw.yaml:3:1: abortConfg: unknown key abortConfg; "
                             "did you mean abortConfig?") for line in lines), lines
    assert any("fw.yaml:5:31: timeoutConfig.inProgressTimeoutInMinutes: 20000 is out of range"
               in line for line in lines), lines
    assert done.stderr == ""


def test_validate__json_output__is_the_error_envelope_with_details(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({"fw.yaml": "targets: []\ndocument: {op: x}\n"})
    done = rollouts("validate", str(root), "--output", "json")
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["success"] is False
    assert body["error"]["code"] == "VALIDATION_ERROR"
    (detail,) = body["error"]["details"]
    assert detail["path"] == "targets" and detail["line"] == 1 and detail["column"] == 1
    assert detail["file"].endswith("fw.yaml")


def test_validate__json_output_when_valid__lists_the_jobs() -> None:
    done = rollouts("validate", "rollouts", "-o", "json")
    body = json.loads(done.stdout)
    assert body["success"] is True
    assert {job["name"] for job in body["data"]["jobs"]} >= {"gateway-fw-2-4-0",
                                                              "fetch-ca-bundle"}


def test_schema__prints_a_json_schema_of_every_createjob_key() -> None:
    done = rollouts("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert schema["additionalProperties"] is False
    assert {"jobId", "targets", "abortConfig", "documentFile", "name"} <= set(schema["properties"])
    assert "required" not in schema  # as written: targets may come from _defaults.yaml


def test_validate_and_schema__import_neither_boto3_nor_deepdiff_nor_moto() -> None:
    code = ("import sys; from click.testing import CliRunner; from engine.cli import main; "
            "CliRunner().invoke(main, ['validate', 'rollouts']); "
            "CliRunner().invoke(main, ['schema']); "
            "print(sorted(m for m in ('boto3', 'botocore', 'deepdiff', 'moto') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_options__ledger_only_where_a_ledger_is_read() -> None:
    from click.testing import CliRunner

    from engine.cli import main

    runner = CliRunner()
    for command in ("plan", "apply"):
        assert "--ledger" in runner.invoke(main, [command, "--help"]).output
    refused = runner.invoke(main, ["status", "--ledger", "file://x.json"])
    assert refused.exit_code == 1 and "No such option '--ledger'" in refused.output


def _envelope(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """stdout is exactly one JSON document, with no traceback anywhere."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    body: dict[str, object] = json.loads(done.stdout)
    assert body["success"] is (done.returncode != 1)
    return body


def test_bad_input__one_line_error_in_the_envelope_never_a_traceback(tmp_path: Path) -> None:
    from .conftest import cli_env, make_repo

    make_repo(tmp_path, {"fw.yaml": "targets: [thing/a]\ndocument: {v: 1}\n"})
    cases = {
        ("plan", "--endpoint-url", "htp:/bad"): ("AWS_ERROR", "--endpoint-url must be a URL"),
        ("plan", "--sandbox", "--endpoint-url", "http://127.0.0.1:1"):
            ("CONFIG_ERROR", "--sandbox and --endpoint-url"),
        ("plan", "--sandbox", "--out", str(tmp_path / "no" / "such" / "p.json")):
            ("PLAN_ERROR", "cannot write the plan"),
        ("apply", "missing-plan.json"): ("PLAN_ERROR", "no saved plan missing-plan.json"),
    }
    for args, (code, words) in cases.items():
        done = subprocess.run([sys.executable, "-m", "engine", *args, "--output", "json"],
                              cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                              check=False)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        error = _envelope(done)["error"]
        assert isinstance(error, dict)
        assert error["code"] == code and words in str(error["message"]), (args, error)
    (tmp_path / ".rollouts-sandbox").mkdir(exist_ok=True)
    (tmp_path / ".rollouts-sandbox" / "state.json").write_text('{"regions": {"eu-')
    done = subprocess.run([sys.executable, "-m", "engine", "plan", "--sandbox", "-o", "json"],
                          cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                          check=False)
    error = _envelope(done)["error"]
    assert isinstance(error, dict) and error["code"] == "CONFIG_ERROR"
    assert "delete" in str(error["message"]) and ".rollouts-sandbox" in str(error["message"])


def test_region_option__wins_over_the_config_file(tmp_path: Path) -> None:
    from .conftest import cli_env, make_repo

    make_repo(tmp_path, {"fw.yaml": "targets: [thing/a]\ndocument: {v: 1}\n"})
    done = subprocess.run([sys.executable, "-m", "engine", "plan", "--sandbox", "--region",
                           "us-east-1", "-o", "json"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, check=False)
    body = _envelope(done)
    data = body["data"]
    assert isinstance(data, dict)
    assert [c["region"] for c in data["changes"]] == ["us-east-1"]
