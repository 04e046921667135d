"""The IAM policies in iam/ allow every AWS operation the engine's source names."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest

from .conftest import REPO

# The services the engine calls, by botocore name, with their IAM prefix.
SERVICES = {"iot": "iot", "cloudwatch": "cloudwatch", "resourcegroupstaggingapi": "tag",
            "s3": "s3"}
# The ledger's S3 calls are allowed on its bucket in the README's set-up, not here.
NOT_IN_POLICIES = {"s3"}


def _used() -> set[tuple[str, str]]:
    session = botocore.session.get_session()
    source = "\n".join(p.read_text() for p in (REPO / "engine").rglob("*.py")
                       if "sandbox" not in p.parts)
    # An operation is called by name: call("X", ...), _pages("X", ...), _request("X", ...),
    # or an action's call ("X", {...}).
    called = set(re.findall(r'(?:call|_pages|_request)\(\s*"([A-Z][A-Za-z]+)"', source))
    called |= set(re.findall(r'\(\s*"([A-Z][A-Za-z]+)",\s*[{\w]', source))
    used: set[tuple[str, str]] = set()
    for name in called:  # the first service (in SERVICES' order) that has the operation
        service = next((s for s in SERVICES
                        if name in session.get_service_model(s).operation_names), None)
        if service is not None:  # else STS's, or no AWS operation
            used.add((service, name))
    return used


def _allowed(policy: str) -> set[str]:
    document = json.loads((REPO / "iam" / policy).read_text())
    actions: set[str] = set()
    for statement in document["Statement"]:
        given = statement["Action"]
        actions |= {given} if isinstance(given, str) else set(given)
    return actions


def test_iam__the_source_names_the_operations_this_test_knows() -> None:
    used = _used()
    assert ("iot", "CreateJob") in used and ("cloudwatch", "DescribeAlarms") in used


@pytest.mark.parametrize("policy,reads_only", [("apply-policy.json", False),
                                               ("plan-policy.json", True)])
def test_iam__policy_allows_every_operation_the_engine_calls(policy: str,
                                                             reads_only: bool) -> None:
    allowed = _allowed(policy)
    missing = sorted(f"{SERVICES[s]}:{op}" for s, op in _used()
                     if s not in NOT_IN_POLICIES
                     and not (reads_only and not op.startswith(("Describe", "List", "Get")))
                     and f"{SERVICES[s]}:{op}" not in allowed)
    assert not missing, f"{policy} lacks {missing}"
