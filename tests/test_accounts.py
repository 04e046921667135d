"""Several accounts and regions in one run (DESIGN.md 10), against a moto server, which
keys its accounts by the assumed role's credentials: a role arn:aws:iam::ID:role/x lands in
account ID."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.accounts import AccountMismatch
from engine.actions import Cancel, Create
from engine.aws import WRITE_OPERATIONS, AwsError, Connection, IotApi
from engine.ledger import FileLedger
from engine.render import markdown
from engine.render.plan import Report, data
from engine.sandbox import moto_jobs
from engine.validate import validate_folder
from engine.workflow import PlanRun, apply_run, plan_folder, status_folder

from .conftest import ACCOUNT, REGION

PROD, STAGING = "111122223333", "444455556666"
OTHER_REGION = "us-east-1"
CONFIG = f"""\
project: fleet
region: {REGION}
accounts:
  prod: {{id: "{PROD}", roleArn: "arn:aws:iam::{PROD}:role/rollouts"}}
  staging: {{id: "{STAGING}", roleArn: "arn:aws:iam::{STAGING}:role/rollouts"}}
"""
# name -> (account alias or None, region)
PLACES: dict[str, tuple[str | None, str]] = {
    "a": ("prod", REGION), "b": ("prod", OTHER_REGION),
    "c": ("staging", REGION), "d": ("staging", OTHER_REGION), "e": (None, REGION)}
IDS = {"prod": PROD, "staging": STAGING, None: ACCOUNT}


def _manifest(name: str) -> str:
    alias, region = PLACES[name]
    return (f"targets: [thing/dev-{name}]\ndocument: {{v: {name}}}\nregion: {region}\n"
            + (f"account: {alias}\n" if alias else ""))


def _repo(base: Path, names: str = "abcde", config: str = CONFIG) -> Path:
    (base / ".git").mkdir(parents=True, exist_ok=True)
    root = base / "rollouts"
    root.mkdir(exist_ok=True)
    (root / "_config.yaml").write_text(config)
    for name in names:
        (root / f"{name}.yaml").write_text(_manifest(name))
    return root


def _plan(root: Path, server: str, *, prune: bool = False) -> PlanRun:
    return plan_folder(root, Connection(region=REGION, endpoint_url=server, rate=0),
                       ledger_override=FileLedger(root.parent / "ledger.json"), prune=prune)


def _jobs(account: str, region: str) -> dict[str, str]:
    """jobId -> status of every job of an account and region."""
    return {j: job.status for j, job in moto_jobs.backend(account, region).jobs.items()}


@pytest.fixture
def env(server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return server


def test_accounts__two_accounts_two_regions__plan_apply_plan_converges(
        env: str, tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run = _plan(root, env)
    creates = {a.name: a for a in run.plan.actions if isinstance(a, Create)}
    assert sorted(creates) == list("abcde")
    for name, action in creates.items():
        alias, region = PLACES[name]
        assert (action.account, action.region) == (IDS[alias], region)
        assert action.request["targets"] == [  # the shorthand resolved in its own account
            f"arn:aws:iot:{region}:{IDS[alias]}:thing/dev-{name}"]
    assert {c["name"]: c["account"] for c in data(run.plan, Report({}))["changes"]} == {
        n: IDS[PLACES[n][0]] for n in "abcde"}
    assert all(o.ok for o in apply_run(run))
    for name, action in creates.items():
        alias, region = PLACES[name]
        assert _jobs(IDS[alias], region) == {action.job_id: "IN_PROGRESS"}
    records = FileLedger(root.parent / "ledger.json").records()
    assert {(r.job_id, r.account, r.region) for r in records} == {
        (a.job_id, a.account, a.region) for a in creates.values()}
    again = _plan(root, env)
    assert again.plan.actions == () and again.plan.orphans == ()
    calls = again.api_calls()
    assert calls["AssumeRole"] == 2 and not set(calls) & WRITE_OPERATIONS


def test_accounts__markdown__an_account_column_only_where_accounts_are_declared(
        env: str, tmp_path: Path) -> None:
    run = _plan(_repo(tmp_path / "many"), env)
    table = markdown.render(run.plan, Report({}))
    assert "| | action | rollout | job id | account | region | manifest |" in table
    assert f"| {ACCOUNT} | {REGION} |" in table and f"| prod | {OTHER_REGION} |" in table
    single = _plan(_repo(tmp_path / "one", "e", f"region: {REGION}\n"), env)
    assert "| | action | rollout | job id | region | manifest |" in markdown.render(
        single.plan, Report({}))


def test_accounts__role_lands_in_another_account__whole_run_refused_nothing_written(
        env: str, tmp_path: Path, calls: list[str]) -> None:
    wrong = CONFIG.replace(f"arn:aws:iam::{STAGING}:role", "arn:aws:iam::999988887777:role")
    root = _repo(tmp_path, config=wrong)
    with pytest.raises(AccountMismatch) as refused:
        _plan(root, env)
    message = str(refused.value)
    assert "staging" in message and "999988887777" in message and STAGING in message
    assert refused.value.code == "CONFIG_ERROR"
    assert set(calls) <= {"GetCallerIdentity", "AssumeRole"}  # nothing read, nothing written
    assert all(not moto_jobs.backend(a, r).jobs for a in (PROD, STAGING, ACCOUNT)
               for r in (REGION, OTHER_REGION))


def test_accounts__orphans_and_pruning__stay_inside_each_account(
        env: str, tmp_path: Path) -> None:
    root = _repo(tmp_path, "ac")
    run = _plan(root, env)
    assert all(o.ok for o in apply_run(run))
    job_of = {a.name: a.job_id for a in run.plan.actions}
    # In prod, a job of another project, and one without the tool's tags: never touched.
    creds = boto3.client("sts", region_name=REGION, endpoint_url=env).assume_role(
        RoleArn=f"arn:aws:iam::{PROD}:role/x", RoleSessionName="test")["Credentials"]
    iot: Any = boto3.client("iot", region_name=REGION, endpoint_url=env,
                            aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])
    for job_id, tags in (("theirs", [{"Key": "rollouts:project", "Value": "other"},
                                     {"Key": "rollouts:name", "Value": "a"}]),
                         ("by-hand", [])):
        iot.create_job(jobId=job_id, document="{}", tags=tags,
                       targets=[f"arn:aws:iot:{REGION}:{PROD}:thing/x"])
    (root / "a.yaml").unlink()
    orphaned = _plan(root, env)
    assert [(o.name, o.job_id, o.account, o.where) for o in orphaned.plan.orphans] == [
        ("a", job_of["a"], PROD, f"prod/{REGION}")]
    pruned = _plan(root, env, prune=True)
    (cancel,) = pruned.plan.actions
    assert isinstance(cancel, Cancel) and (cancel.job_id, cancel.account) == (job_of["a"], PROD)
    assert all(o.ok for o in apply_run(pruned))
    assert _jobs(PROD, REGION) == {job_of["a"]: "CANCELED", "theirs": "IN_PROGRESS",
                                   "by-hand": "IN_PROGRESS"}
    assert _jobs(STAGING, REGION) == {job_of["c"]: "IN_PROGRESS"}
    assert _plan(root, env).plan.actions == ()


def test_accounts__bulk_read_refused_in_one_account__falls_back_noted_and_converges(
        env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    assert all(o.ok for o in apply_run(_plan(root, env)))
    real = IotApi.tagged_jobs

    def refused_in_prod(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        if self.account() == PROD:
            raise AwsError("GetResources", "AccessDeniedException", "not allowed")
        return real(self, key, value)

    monkeypatch.setattr(IotApi, "tagged_jobs", refused_in_prod)
    (root / "a.yaml").write_text(_manifest("a").replace("v: a", "v: a2"))
    run = _plan(root, env)
    noted = sorted(n for n in run.plan.notes if "GetResources failed" in n)
    assert sorted(n.split(" in ")[1].split(":")[0] for n in noted) == [
        f"prod/{REGION}", f"prod/{OTHER_REGION}"]
    (replace,) = run.plan.actions
    assert replace.verb == "replace" and replace.account == PROD
    assert all(o.ok for o in apply_run(run))
    assert _plan(root, env).plan.actions == ()
    assert sorted(_jobs(PROD, REGION).values()) == ["CANCELED", "IN_PROGRESS"]


def test_validate__unknown_account_alias__an_error_at_its_line(tmp_path: Path) -> None:
    root = _repo(tmp_path, "e")
    (root / "e.yaml").write_text(_manifest("e") + "account: prd\n")
    (root / "sub").mkdir()
    (root / "sub" / "_defaults.yaml").write_text("account: qa\n")
    (root / "sub" / "f.yaml").write_text("targets: [thing/f]\ndocument: {v: f}\n")
    problems = {(p.file.rpartition("rollouts/")[2], p.line, p.path, p.message)
                for p in validate_folder(root).problems}
    assert problems == {
        ("e.yaml", 4, "account", "account 'prd' is not declared under accounts: in "
                                 "_config.yaml; did you mean prod?"),
        ("sub/_defaults.yaml", 1, "account", "account 'qa' is not declared under accounts: "
                                             "in _config.yaml (declared: prod, staging)")}


def test_accounts__plan_role__assumed_by_a_plan_only(env: str, tmp_path: Path,
                                                     calls: list[str]) -> None:
    # The read-only role lands elsewhere here, so which role a run assumed shows at once.
    config = CONFIG.replace(
        f'roleArn: "arn:aws:iam::{PROD}:role/rollouts"}}',
        f'roleArn: "arn:aws:iam::{PROD}:role/rollouts", '
        f'planRoleArn: "arn:aws:iam::999988887777:role/rollouts-plan"}}')
    root = _repo(tmp_path, "a", config)
    with pytest.raises(AccountMismatch, match="rollouts-plan gave account 999988887777"):
        plan_folder(root, Connection(region=REGION, endpoint_url=env, rate=0,
                                     reads_only=True))
    run = _plan(root, env)  # an apply's plan: roleArn
    assert [a.account for a in run.plan.actions] == [PROD]


def test_accounts__role_cannot_be_assumed__aws_error_naming_the_account_and_the_fix(
        env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: IotApi, role_arn: str, session: str) -> tuple[str, str, str]:
        raise AwsError("AssumeRole", "AccessDenied", "not authorized to perform sts:AssumeRole")

    monkeypatch.setattr(IotApi, "assume_role", denied)
    with pytest.raises(AwsError) as failed:
        _plan(_repo(tmp_path, "a"), env)
    message = str(failed.value)
    assert failed.value.code == "AWS_ERROR" and failed.value.aws_code == "AccessDenied"
    assert f"arn:aws:iam::{PROD}:role/rollouts (account prod)" in message
    assert "iam/account-role-trust.json" in message and "\n" not in message


def test_accounts__account_no_longer_declared__its_ledger_jobs_noted_not_read(
        env: str, tmp_path: Path) -> None:
    root = _repo(tmp_path, "ac")
    assert all(o.ok for o in apply_run(_plan(root, env)))
    (root / "c.yaml").unlink()
    (root / "_config.yaml").write_text(CONFIG.split("  staging:")[0])
    run = _plan(root, env)
    assert run.plan.actions == () and run.plan.orphans == ()
    assert any(f"account(s) {STAGING}, which accounts: in _config.yaml no longer declares"
               in n for n in run.plan.notes), run.plan.notes
    assert _jobs(STAGING, REGION) != {}  # left alone


def test_status__two_accounts__each_rollout_read_in_its_own_place(env: str,
                                                                 tmp_path: Path) -> None:
    root = _repo(tmp_path, "ae")
    assert all(o.ok for o in apply_run(_plan(root, env)))
    statuses = {s.name: s for s in status_folder(
        root, Connection(region=REGION, endpoint_url=env, rate=0))}
    assert {n: (s.status, s.where, s.as_dict().get("account")) for n, s in statuses.items()} == {
        "a": ("IN_PROGRESS", f"prod/{REGION}", PROD), "e": ("IN_PROGRESS", REGION, None)}


PINNED = "targets: [thing/dev-1]\ndocument: {{v: 1}}\njobId: fw-x\naccount: {alias}\n"


def test_pinned_rollout_moved_to_another_account__created_there(
        env: str, tmp_path: Path) -> None:
    """The ledger keys jobs by account, region and jobId: a rollout whose pinned jobId ran
    in prod and that moves to staging is created there (its id is free in staging)."""
    root = _repo(tmp_path, names="")
    (root / "fw.yaml").write_text(PINNED.format(alias="prod"))
    assert all(o.ok for o in apply_run(_plan(root, env)))
    (root / "fw.yaml").write_text(PINNED.format(alias="staging"))
    run = _plan(root, env, prune=True)
    creates = [(a.where, a.job_id) for a in run.plan.actions if isinstance(a, Create)]
    assert creates == [(f"staging/{REGION}", "fw-x")], (
        [(a.verb, a.where, a.job_id) for a in run.plan.actions], run.plan.notes)
    assert all(o.ok for o in apply_run(run))
    assert _jobs(STAGING, REGION) == {"fw-x": "IN_PROGRESS"}
