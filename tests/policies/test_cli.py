"""Policies through the commands: exit codes, the JSON envelope, text and markdown, and no
AWS call when a policy of level error is broken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from engine.cli import main

from .helpers import JOB, policies_yaml, write

NO_LAB = {"id": "no-lab", "rule": "!job.targets.exists(t, t.contains(':thing/lab-'))",
          "message": "lab devices stay out of fleet rollouts"}
NO_LAB_WARNING = {**NO_LAB, "level": "warning"}
WAIVED = JOB + "policyExceptions: {no-lab: \"bench kit, approved in #42\"}\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def envelope(done: Result) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(done.output)
    assert body["success"] is (done.exit_code == 0), body
    return body


def test_validate__error_level_broken__exit_1_policy_violation(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB), "fw.yaml": JOB})
    done = run("validate", "rollouts")
    assert done.exit_code == 1
    assert ("rollouts/fw.yaml:1:1: targets: policy no-lab: lab devices stay out of fleet "
            "rollouts") in done.output
    body = envelope(run("validate", "rollouts", "-o", "json"))
    assert body["error"]["code"] == "POLICY_VIOLATION"
    (detail,) = body["error"]["details"]
    assert detail["code"] == "POLICY_VIOLATION" and detail["line"] == 1


def test_validate__warning_level_broken__exit_0_with_the_warning(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB_WARNING), "fw.yaml": JOB})
    done = run("validate", "rollouts")
    assert done.exit_code == 0 and "warning: targets: policy no-lab" in done.output
    body = envelope(run("validate", "rollouts", "-o", "json"))
    assert [w["code"] for w in body["data"]["warnings"]] == ["POLICY_VIOLATION"]


def test_validate__exception_in_use__listed(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB), "fw.yaml": WAIVED})
    done = run("validate", "rollouts")
    assert done.exit_code == 0
    assert "policy exception: fw (rollouts/fw.yaml) breaks no-lab: bench kit" in done.output
    body = envelope(run("validate", "rollouts", "-o", "json"))
    assert body["data"]["policyExceptions"] == [
        {"name": "fw", "source": "rollouts/fw.yaml", "policy": "no-lab",
         "reason": "bench kit, approved in #42"}]


def test_validate__policies_do_not_compile__exit_1_config_error(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml({"id": "x", "rule": "job.("}),
                     "fw.yaml": JOB})
    body = envelope(run("validate", "rollouts", "-o", "json"))
    assert body["error"]["code"] == "CONFIG_ERROR"
    assert body["error"]["details"][0]["file"] == "rollouts/_policies.yaml"


def test_plan__error_level_broken__exit_1_in_every_format(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB), "fw.yaml": JOB})
    text = run("plan", "--sandbox")
    assert text.exit_code == 1 and "policy no-lab" in text.output
    body = envelope(run("plan", "--sandbox", "-o", "json"))
    assert body["error"]["code"] == "POLICY_VIOLATION"
    markdown = run("plan", "--sandbox", "-o", "markdown")
    assert markdown.exit_code == 1
    assert "Plan failed: policy violations, 1 error" in markdown.output
    assert run("plan", "--sandbox", "--detailed-exitcode").exit_code == 1


def test_plan__warning_level_broken__plans_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB_WARNING), "fw.yaml": JOB})
    done = run("plan", "--sandbox", "--detailed-exitcode")
    assert done.exit_code == 2, done.output  # one create
    assert "note: rollouts/fw.yaml:1:1: warning: targets: policy no-lab" in done.output
    notes = envelope(run("plan", "--sandbox", "-o", "json"))["data"]["notes"]
    assert any("policy no-lab" in n for n in notes), notes


def test_apply__error_level_broken__no_aws_call(tmp_path: Path, calls: list[str]) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB), "fw.yaml": JOB})
    done = run("apply", "--sandbox", "--auto-approve", "-o", "json")
    assert done.exit_code == 1
    assert envelope(done)["error"]["code"] == "POLICY_VIOLATION"
    assert calls == []


def test_plan_and_apply__exception_in_use__listed_in_every_format(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml(NO_LAB), "fw.yaml": WAIVED})
    text = run("plan", "--sandbox")
    assert text.exit_code == 0, text.output
    assert "Policy exceptions in use:\n  fw (rollouts/fw.yaml): no-lab: bench kit, approved " \
           "in #42" in text.output
    body = envelope(run("plan", "--sandbox", "-o", "json"))
    assert body["data"]["policyExceptions"] == [
        {"name": "fw", "source": "rollouts/fw.yaml", "policy": "no-lab",
         "reason": "bench kit, approved in #42"}]
    markdown = run("plan", "--sandbox", "-o", "markdown").output
    assert "**Policy exceptions in use**" in markdown
    assert "| fw | no-lab | bench kit, approved in #42 | rollouts/fw.yaml |" in markdown
    applied = envelope(run("apply", "--sandbox", "--auto-approve", "-o", "json"))
    assert applied["data"]["policyExceptions"][0]["policy"] == "no-lab"
    request = applied["data"]["changes"][0]["request"]
    assert "policyExceptions" not in json.dumps(request)
    assert run("plan", "--sandbox", "--detailed-exitcode").exit_code == 0


def test_schema__kind_policies__describes_the_file() -> None:
    done = run("schema", "--kind", "policies")
    schema = json.loads(done.output)
    policy = schema["properties"]["policies"]["items"]
    assert policy["properties"]["level"]["enum"] == ["error", "warning"]
    assert policy["required"] == ["id", "rule"]


def test_schema__manifest__knows_policy_exceptions() -> None:
    schema = json.loads(run("schema").output)
    assert "policyExceptions" in schema["properties"]


@pytest.mark.parametrize(("manifest", "where"), [
    (JOB, "the policies file (_policies.yaml)"),
    (JOB + "bogus: 1\n", "the manifests and the policies file"),
])
def test_validate__errors_in_the_policies_file__summary_names_it(
        tmp_path: Path, manifest: str, where: str) -> None:
    write(tmp_path, {"_policies.yaml": policies_yaml({"id": "a", "rule": "has(job.nope)"}),
                     "fw.yaml": manifest})
    body = envelope(run("validate", "rollouts", "--output", "json"))
    assert body["error"]["message"].endswith(f" in {where}"), body["error"]


def test_validate__policies_file_over_a_mebibyte__own_message(tmp_path: Path) -> None:
    write(tmp_path, {"_policies.yaml": "policies: []\n# " + "x" * 1_100_000 + "\n",
                     "fw.yaml": JOB})
    done = run("validate", "rollouts")
    assert done.exit_code == 1
    assert "the most a policies file may be" in done.output, done.output
    assert "S3" not in done.output, done.output
