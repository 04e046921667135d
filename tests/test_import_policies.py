"""`rollouts import` of a running job that breaks a policy of `_policies.yaml` writes its manifest
(adopting rolls nothing out) and names the violation; the next plan refuses it until the team
fixes the job or claims an exception in review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from .conftest import REGION, make_repo

POLICIES = """\
policies:
  - id: needs-abort
    rule: "has(job.abortConfig)"
    message: every rollout aborts itself
"""


@pytest.fixture
def repo(tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path, {"_policies.yaml": POLICIES})
    (root / "_config.yaml").write_text(f"project: acme\nregion: {REGION}\n")
    return root


def test_import__job_breaks_a_policy__manifest_written_and_violation_named(repo: Path) -> None:
    import boto3

    boto3.client("iot", region_name=REGION).create_job(
        jobId="legacy-1", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/d1"],
        document='{"op": "x"}')
    done = CliRunner().invoke(main, ["import", "legacy-1", "--folder", str(repo), "-o", "json"])
    body = json.loads(done.stdout)
    assert (repo / "legacy-1.yaml").exists(), body
    assert done.exit_code == 0, body
    assert body["data"]["policyViolations"], body
    assert "needs-abort" in body["data"]["policyViolations"][0]
    # The next plan says what the policy says: the team decides in review.
    planned = CliRunner().invoke(main, ["plan", str(repo), "-o", "json"])
    assert planned.exit_code == 1
    assert json.loads(planned.stdout)["error"]["code"] == "POLICY_VIOLATION"
