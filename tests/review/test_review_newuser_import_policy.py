"""Review (newuser): `rollouts import` of a running job that breaks a policy of
`_policies.yaml` writes nothing (IMPORT_ERROR). The README's list of why import writes
nothing (an unknown id, a managed or foreign job, a name used, a file in the way) has no
policy in it; the error names a line of a file that was never written and tells the user to
claim an exception in it. Adopting a job that already runs rolls nothing out: the manifest
should be written (the violation reported, as validate would), so the team can add its
`policyExceptions` or fix the job in review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from ..conftest import REGION, make_repo

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


def test_review_newuser__import_job_breaking_a_policy__manifest_written(repo: Path) -> None:
    import boto3

    boto3.client("iot", region_name=REGION).create_job(
        jobId="legacy-1", targets=[f"arn:aws:iot:{REGION}:123456789012:thing/d1"],
        document='{"op": "x"}')
    done = CliRunner().invoke(main, ["import", "legacy-1", "--folder", str(repo), "-o", "json"])
    body = json.loads(done.stdout)
    assert (repo / "legacy-1.yaml").exists(), body
    assert done.exit_code == 0, body
