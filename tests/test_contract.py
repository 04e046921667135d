"""The output contract (DESIGN.md section 4), every command in every output format over a
corpus of situations: with ``-o json`` stdout is exactly one JSON document, ``success`` is
false exactly when the exit code is 1, every error code is one the README lists, and
nothing prints a traceback. The exit code is the same whatever the format.

The commands run in-process (click's CliRunner, whose stdin is no terminal) against the
session's moto server, or a stock one (an endpoint lacking operations); each situation is
set up once for the module, in a project of its own, and no command here changes AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from engine.cli import main

from .conftest import ACCOUNT, REGION, REPO

FORMATS = {"validate": ("text", "json"), "plan": ("text", "markdown", "json"),
           "apply": ("text", "markdown", "json"), "apply-file": ("text", "markdown", "json"),
           "status": ("text", "json")}


def readme_codes() -> frozenset[str]:
    """The error codes the README lists for ``--output json``."""
    text = (REPO / "README.md").read_text()
    listed = text[text.index("with codes"):].split("\n\n", 1)[0]
    codes = frozenset(re.findall(r"`([A-Z_]+)`", listed))
    assert len(codes) >= 9, listed
    return codes


CODES = readme_codes()


def manifest(name: str, extra: str = "") -> str:
    return f"targets: [thing/{name}]\ndocument: {{rollout: {name}}}\n{extra}"


def iot_at(endpoint: str) -> Any:
    return boto3.client("iot", region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass(frozen=True)
class Situation:
    """A repository, the endpoint its commands call, and what each command must answer:
    the exit code and (for a failure) the error code, by command."""

    root: Path
    endpoint: str
    expect: dict[str, tuple[int, str | None]]
    plan_file: Path | None = None


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=True)


@pytest.fixture(scope="module")
def env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("NO_COLOR", "1")
        yield


def repo(base: Path, project: str, files: dict[str, str]) -> Path:
    (base / ".git").mkdir(parents=True)
    root = base / "rollouts"
    root.mkdir()
    (root / "_config.yaml").write_text(f"region: {REGION}\nproject: {project}\n"
                                       "ledger: file://ledger.json\n")
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


def at(endpoint: str, *args: str) -> Result:
    return invoke([*args, "--endpoint-url", endpoint])


@pytest.fixture(scope="module")
def situations(env: None, moto_server: str, stock_server: str,
               tmp_path_factory: pytest.TempPathFactory) -> dict[str, Situation]:
    base = tmp_path_factory.mktemp("contract")
    server = moto_server
    ok: tuple[int, str | None] = (0, None)
    out: dict[str, Situation] = {}

    # success: applied, then a plan saved: nothing to do anywhere.
    root = repo(base / "success", "contract-success", {"a.yaml": manifest("success")})
    assert at(server, "apply", str(root), "--auto-approve").exit_code == 0
    plan_file = base / "success-plan.json"
    assert at(server, "plan", str(root), "--out", str(plan_file)).exit_code == 0
    out["success"] = Situation(root, server, {"validate": ok, "plan": ok, "apply": ok,
                                              "apply-file": ok, "status": ok}, plan_file)

    # changes: nothing applied yet; apply without a terminal cannot ask, so refuses.
    root = repo(base / "changes", "contract-changes", {"a.yaml": manifest("changes")})
    plan_file = base / "changes-plan.json"
    assert at(server, "plan", str(root), "--out", str(plan_file)).exit_code == 0
    out["changes"] = Situation(root, server, {
        "validate": ok, "plan": ok, "apply": (1, "APPLY_FAILED"), "status": ok}, plan_file)

    # conflict: a pinned jobId that exists with other content.
    root = repo(base / "conflict", "contract-conflict",
                {"a.yaml": "jobId: contract-pinned\n" + manifest("conflict")})
    iot_at(server).create_job(jobId="contract-pinned", document='{"other": 1}',
                              targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/conflict"])
    out["conflict"] = Situation(root, server, {
        "validate": ok, "plan": (1, "CONFLICT"), "apply": (1, "CONFLICT"), "status": ok})

    # invalid manifests: nothing is read from AWS.
    root = repo(base / "invalid", "contract-invalid",
                {"a.yaml": manifest("invalid", "abortConfg: {}\n")})
    invalid = (1, "VALIDATION_ERROR")
    out["invalid"] = Situation(root, server, {"validate": invalid, "plan": invalid,
                                              "apply": invalid, "status": invalid})

    # stale saved plan: AWS moved (the job was created) since the plan was saved.
    root = repo(base / "stale", "contract-stale", {"a.yaml": manifest("stale")})
    plan_file = base / "stale-plan.json"
    assert at(server, "plan", str(root), "--out", str(plan_file)).exit_code == 0
    assert at(server, "apply", str(root), "--auto-approve").exit_code == 0
    out["stale"] = Situation(root, server, {"apply-file": (1, "STALE_PLAN")}, plan_file)

    # AWS error: a stock moto server lacks ListTagsForResource for jobs.
    root = repo(base / "aws-error", "contract-aws", {
        "a.yaml": "jobId: contract-stock\n" + manifest("stock")})
    iot_at(stock_server).create_job(jobId="contract-stock", document="{}",
                                    targets=[f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/stock"])
    aws = (1, "AWS_ERROR")
    out["aws-error"] = Situation(root, stock_server, {"plan": aws, "apply": aws,
                                                      "status": aws})

    # unreachable endpoint: nothing listens there.
    root = repo(base / "unreachable", "contract-unreachable", {"a.yaml": manifest("x")})
    out["unreachable"] = Situation(root, "http://127.0.0.1:9", {"plan": aws, "status": aws})

    # ledger error: the ledger file is damaged (status reads no ledger).
    root = repo(base / "ledger", "contract-ledger", {"a.yaml": manifest("ledger")})
    (root.parent / "ledger.json").write_text('[{"kind": "create", "jobId"')
    ledger = (1, "LEDGER_ERROR")
    out["ledger-error"] = Situation(root, server, {"plan": ledger, "apply": ledger,
                                                   "status": ok})
    return out


def command_line(command: str, situation: Situation, output: str) -> list[str]:
    where = ["--endpoint-url", situation.endpoint]
    if command == "validate":
        return ["validate", str(situation.root), "-o", output]
    if command == "apply-file":
        assert situation.plan_file is not None
        return ["apply", str(situation.plan_file), "-o", output, *where]
    return [command, str(situation.root), "-o", output, *where]


CASES = [(name, command, output)
         for name, commands in {
             "success": ("validate", "plan", "apply", "apply-file", "status"),
             "changes": ("validate", "plan", "apply", "status"),
             "conflict": ("validate", "plan", "apply", "status"),
             "invalid": ("validate", "plan", "apply", "status"),
             "stale": ("apply-file",),
             "aws-error": ("plan", "apply", "status"),
             "unreachable": ("plan", "status"),
             "ledger-error": ("plan", "apply", "status"),
         }.items()
         for command in commands for output in FORMATS[command]]


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(("name", "command", "output"), CASES,
                         ids=[f"{n}-{c}-{o}" for n, c, o in CASES])
def test_contract(situations: dict[str, Situation], name: str, command: str,
                  output: str, monkeypatch: pytest.MonkeyPatch) -> None:
    situation = situations[name]
    monkeypatch.chdir(situation.root.parent)  # a saved plan is applied in its checkout
    exit_code, code = situation.expect[command]
    result = invoke(command_line(command, situation, output))
    no_traceback(result)
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    if output == "json":
        body = json.loads(result.stdout)  # exactly one document, nothing around it
        assert body["success"] is (result.exit_code != 1), body
        if not body["success"]:
            assert body["error"]["code"] in CODES, body["error"]
            assert body["error"]["code"] == code, body["error"]
            assert "\n" not in body["error"]["message"], body["error"]["message"]
    elif output == "markdown":
        first = result.stdout.splitlines()[1]
        assert first.startswith("### \u274c " if exit_code == 1 else "### \u2705 "), first
    elif exit_code == 1 and command != "validate":  # validate's problems are its output
        assert result.stderr.splitlines()[-1].startswith("error: "), result.stderr


def test_schema__one_json_document_exit_0(env: None) -> None:
    result = invoke(["schema"])
    no_traceback(result)
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), dict)


def test_usage_error__json__config_error_envelope(env: None) -> None:
    result = invoke(["plan", "--no-such-option", "-o", "json"])
    no_traceback(result)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "CONFIG_ERROR"


def test_every_error_code_of_the_engine__is_in_the_readme() -> None:
    """Every error class's code (each module that defines one imported), and every code the
    CLI names itself."""
    import importlib

    from engine.errors import RolloutsError

    for module in ("aws", "ledger", "saved", "sandbox.runtime", "workflow"):
        importlib.import_module(f"engine.{module}")
    seen, todo = set(), [RolloutsError]
    while todo:
        kind = todo.pop()
        seen.add(kind.code)
        todo += kind.__subclasses__()
    assert seen <= CODES, seen - CODES
    cli = "".join(p.read_text() for p in (REPO / "engine" / "cli").glob("*.py"))
    assert set(re.findall(r'"([A-Z]+_[A-Z_]+)"', cli)) <= CODES
