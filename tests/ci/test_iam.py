"""The IAM policy files hold every action the tool calls: an operation the engine makes
that the apply policy does not allow fails this test, not a production apply."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.client import BaseClient

from engine.aws import Connection
from engine.sandbox import moto_jobs
from engine.workflow import PlanRun, apply_run, plan_folder, status_folder

from ..conftest import REGION, REPO

# Calls that need no IAM permission at all.
FREE = {"sts:GetCallerIdentity"}
# S3 answers NoSuchKey (not AccessDenied) for a missing ledger only with ListBucket.
ALSO_NEEDED = {"s3:GetObject": {"s3:ListBucket"}}
SERVICES = {"iot": "iot", "s3": "s3", "sts": "sts", "tagging": "tag"}
# botocore's name of each service the engine calls, and its IAM prefix.
MODELS = {"iot": "iot", "resourcegroupstaggingapi": "tag", "s3": "s3", "sts": "sts"}
# An operation named where a call is made: the adapter's ``call("ListJobs", ...)`` and
# ``_request("GetObject", ...)``, an action's ``("CreateJob", request)`` pair.
NAMED_CALL = re.compile(r'\(\s*"([A-Z][A-Za-z]+)"\s*,')


def _allowed(name: str) -> set[str]:
    policy = json.loads((REPO / "iam" / f"{name}-policy.json").read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        listed = statement["Action"]
        actions |= {listed} if isinstance(listed, str) else set(listed)
    return actions


def _needed(operations: set[str]) -> set[str]:
    needed: set[str] = set()
    for op in operations:
        needed.add(op)
        needed |= ALSO_NEEDED.get(op, set())
    return needed - FREE


def _operations_named_in(source: str) -> set[str]:
    """``prefix:Operation`` for each quoted name that opens a call or a call pair and is
    an operation of a service the engine uses (other quoted names, such as error codes,
    are no operation of any)."""
    session = botocore.session.get_session()
    operations = {name: set(session.get_service_model(name).operation_names)
                  for name in MODELS}
    named = set(NAMED_CALL.findall(source))
    return {f"{prefix}:{op}" for op in named for name, prefix in MODELS.items()
            if op in operations[name]}


def test_every_operation_named_in_the_engine_is_in_the_apply_policy() -> None:
    source = "\n".join(p.read_text() for p in (REPO / "engine").rglob("*.py")
                       if "sandbox" not in p.parts)
    operations = _operations_named_in(source)
    assert operations >= {"iot:CreateJob", "iot:UpdateJob", "iot:CancelJob", "iot:ListJobs",
                          "iot:DescribeJob", "iot:GetJobDocument", "iot:ListTagsForResource",
                          "iot:TagResource", "iot:UntagResource", "tag:GetResources",
                          "s3:GetObject", "s3:PutObject"}
    assert _needed(operations) <= _allowed("apply")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        seen.append(f"{SERVICES[self.meta.service_model.endpoint_prefix]}:{operation}")
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen


def test_a_whole_lifecycle_calls_only_what_the_policies_allow(
        aws: None, tmp_path: Path, recorded: list[str]) -> None:
    (tmp_path / ".git").mkdir()
    root = tmp_path / "rollouts"
    root.mkdir()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fleet-ledger",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    recorded.clear()
    (root / "_config.yaml").write_text("region: eu-west-1\nledger: s3://fleet-ledger/l.json\n")
    job = ("targets: [thing/a]\ndocument: {v: 1}\ntags: {team: a}\n"
           "presignedUrlConfig: {roleArn: 'arn:aws:iam::123456789012:role/presign'}\n"
           "abortConfig: {criteriaList: [{failureType: FAILED, action: CANCEL, "
           "thresholdPercentage: 10, minNumberOfExecutedThings: 1}]}\n")
    (root / "a.yaml").write_text(job)
    (root / "b.yaml").write_text("targets: [thing/b]\ndocument: {v: 1}\n")
    connection = Connection(region=REGION, rate=0)
    plan_calls: set[str] = set()

    def plan(prune: bool = False) -> PlanRun:
        """A plan, its calls kept apart: each plan runs under the plan policy alone."""
        start = len(recorded)
        run = plan_folder(root, connection, prune=prune)
        plan_calls.update(recorded[start:])
        return run

    assert all(o.ok for o in apply_run(plan()))
    (root / "a.yaml").write_text(job.replace("10", "5").replace("team: a", "owner: b"))
    assert all(o.ok for o in apply_run(plan()))  # update + tags
    (root / "a.yaml").write_text(job.replace("v: 1", "v: 2"))
    assert all(o.ok for o in apply_run(plan()))  # replace
    (root / "b.yaml").unlink()
    assert all(o.ok for o in apply_run(plan(prune=True)))  # cancel
    status_folder(root, connection)
    moto_jobs.backend()  # the simulated account holds the result; the calls are the point

    used = set(recorded)
    assert used >= {"iot:CreateJob", "iot:UpdateJob", "iot:CancelJob", "iot:TagResource",
                    "iot:UntagResource", "s3:PutObject", "s3:GetObject", "tag:GetResources"}
    missing = _needed(used) - _allowed("apply")
    assert not missing, f"the apply policy lacks {sorted(missing)}"
    plan_missing = _needed(plan_calls) - _allowed("plan")
    assert not plan_missing, f"the plan policy lacks {sorted(plan_missing)}"
