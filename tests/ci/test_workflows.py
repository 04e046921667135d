"""The GitHub workflows lint clean, and every `rollouts ...` line in them parses with the
real CLI, so a renamed flag breaks this build rather than the first pull request. The
reusable workflows (the ones other repositories call) are what this repository's own
workflows call: every input they declare is used, every input a caller passes is declared,
and every output comes from a step that writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .lint import (
    actionlint,
    calls,
    command_lines,
    load,
    parse_with_the_real_cli,
    reusable_inputs,
)

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
REUSABLE = [p for p in WORKFLOWS if "workflow_call" in (load(p)["on"] or {})]
CALLERS = [p for p in WORKFLOWS if p not in REUSABLE]
COMMANDS = command_lines(WORKFLOWS)


def test_actionlint_passes_on_every_workflow() -> None:
    done = actionlint(WORKFLOWS, REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflows_run_plan_validate_and_apply() -> None:
    assert {args[0] for _, args in COMMANDS} >= {"validate", "plan", "apply"}


@pytest.mark.parametrize("label,args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_workflow_command_line__parses_with_the_real_cli(label: str, args: list[str]) -> None:
    parse_with_the_real_cli(label, args)  # raises on an unknown option or value


def test_workflows__least_privilege_and_no_secrets_on_forks() -> None:
    plan = load(REPO / ".github/workflows/plan.yml")
    apply = load(REPO / ".github/workflows/apply.yml")
    assert "pull_request" in plan["on"] and "pull_request_target" not in plan["on"]
    assert "github.repository" in plan["jobs"]["plan"]["if"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write",
                                   "pull-requests": "write"}
    assert apply["permissions"] == {"contents": "read", "id-token": "write"}
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert apply["jobs"]["apply"]["with"]["environment"] == "rollouts"
    text = "".join(p.read_text() for p in WORKFLOWS)
    assert "secrets." not in text and "aws-access-key-id" not in text


def test_readme_names_the_workflow_variables() -> None:
    readme = (REPO / "README.md").read_text()
    for variable in ("ROLLOUTS_PLAN_ROLE_ARN", "ROLLOUTS_APPLY_ROLE_ARN", "AWS_REGION"):
        assert variable in readme
    assert Path(REPO / "iam" / "apply-policy.json").exists()


def test_gates_workflow__applies_every_15_minutes_in_the_applys_concurrency_group() -> None:
    gates = load(REPO / ".github/workflows/gates.yml")
    apply = load(REPO / ".github/workflows/apply.yml")
    assert gates["on"]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert gates["concurrency"] == apply["concurrency"]
    assert gates["permissions"] == apply["permissions"]
    job = gates["jobs"]["apply"]
    assert job["uses"] == apply["jobs"]["apply"]["uses"] == "./.github/workflows/reusable-apply.yml"
    assert job["with"]["ref"] == "main" and job["with"]["folder"] == "rollouts"
    reusable = load(REPO / ".github/workflows/reusable-apply.yml")
    steps = " ".join(s.get("run", "") for s in reusable["jobs"]["apply"]["steps"])
    assert 'rollouts apply "$FOLDER" --auto-approve' in steps


def test_reusable_workflows__plan_and_apply__each_called_here() -> None:
    assert {p.name for p in REUSABLE} == {"reusable-plan.yml", "reusable-apply.yml"}
    called = {name for _, name, _, _ in calls(CALLERS)}
    assert called == {p.name for p in REUSABLE}
    for _, _, _, job in calls(CALLERS):
        assert job["uses"].startswith("./.github/workflows/"), job["uses"]


@pytest.mark.parametrize("path", REUSABLE, ids=[p.name for p in REUSABLE])
def test_reusable_workflow__every_declared_input__is_used_in_its_jobs(path: Path) -> None:
    jobs = yaml.safe_dump(load(path)["jobs"])
    for name in reusable_inputs(path):
        assert re.search(rf"\binputs\.{re.escape(name)}\b", jobs), f"{name} is never used"
    assert {"role-arn", "region", "folder", "version", "package"} <= set(reusable_inputs(path))


@pytest.mark.parametrize("path", REUSABLE, ids=[p.name for p in REUSABLE])
def test_reusable_workflow__every_output__comes_from_a_step_that_writes_it(path: Path) -> None:
    workflow = load(path)
    outputs = workflow["on"]["workflow_call"]["outputs"]
    assert {"exitcode", "summary"} <= set(outputs)
    for name, output in outputs.items():
        job_name, job_output = re.fullmatch(
            r"\$\{\{ jobs\.([\w-]+)\.outputs\.([\w-]+) \}\}", output["value"]).groups()
        job = workflow["jobs"][job_name]
        step_id, step_output = re.fullmatch(
            r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", job["outputs"][job_output]).groups()
        step = next(s for s in job["steps"] if s.get("id") == step_id)
        assert f'echo "{step_output}=' in step["run"], f"{name}: {step_id} never writes it"


@pytest.mark.parametrize("caller,called,given,job", calls(CALLERS),
                         ids=[f"{c}->{n}" for c, n, _, _ in calls(CALLERS)])
def test_call__passes_only_declared_inputs_and_every_required_one(
        caller: str, called: str, given: dict[str, object], job: dict[str, object]) -> None:
    declared = reusable_inputs(REPO / ".github/workflows" / called)
    assert set(given) <= set(declared), f"{caller}: not inputs of {called}"
    required = {name for name, spec in declared.items() if spec.get("required")}
    assert required <= set(given), f"{caller}: misses {required - set(given)}"
    # This repository installs the tool of its own commit: the workflows test what ships.
    assert given["package"] == "."


@pytest.mark.parametrize("caller,called,given,job", calls(CALLERS),
                         ids=[f"{c}->{n}" for c, n, _, _ in calls(CALLERS)])
def test_call__grants_the_permissions_the_reusable_job_asks_for(
        caller: str, called: str, given: dict[str, object], job: dict[str, object]) -> None:
    granted = job.get("permissions") or load(REPO / ".github/workflows" / caller)["permissions"]
    for reusable_job in load(REPO / ".github/workflows" / called)["jobs"].values():
        for scope, level in reusable_job["permissions"].items():
            assert granted.get(scope) in ({level, "write"} if level == "read" else {level}), \
                f"{caller} grants {scope}: {granted.get(scope)}, {called} needs {level}"


def test_reusable_workflows__install_the_tool_the_same_way() -> None:
    def install(path: Path) -> dict[str, object]:
        steps = next(iter(load(path)["jobs"].values()))["steps"]
        return dict(next(s for s in steps if s.get("name") == "Install iot-rollouts"))

    plan, apply = (install(REPO / ".github/workflows" / name)
                   for name in ("reusable-plan.yml", "reusable-apply.yml"))
    assert plan == apply
    assert "iot-rollouts==$VERSION" in str(plan["run"])
