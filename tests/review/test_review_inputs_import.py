"""Review (inputs): `rollouts import` with odd --out targets and jobs that vanish mid-read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.aws import IotApi
from engine.cli import main
from tests.conftest import ACCOUNT, REGION, make_repo

GROUP = f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/fleet"


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, [*args, "--output", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    import boto3

    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path, {})
    (root / "_config.yaml").write_text(f"project: acme\nregion: {REGION}\n")
    iot = boto3.client("iot", region_name=REGION)
    for job_id in ("keep", "gone"):
        iot.create_job(jobId=job_id, targets=[GROUP], document='{"op": "x"}')
    return root


def test_import__out_is_a_file__import_error_naming_it(repo: Path) -> None:
    # Today: exit 1, code PLAN_ERROR, "unexpected FileExistsError: [Errno 17] File exists:
    # '.../afile' (please report this)".
    afile = repo.parent / "afile"
    afile.write_text("")
    code, body = run("import", "keep", "--folder", str(repo), "--out", str(afile))
    assert code == 1 and body["success"] is False
    assert body["error"]["code"] == "IMPORT_ERROR", body
    assert "unexpected" not in body["error"]["message"], body


def test_import__all__job_deleted_after_listing__others_imported(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --all lists the active jobs, then reads each; a job deleted in between is no longer
    # an active job to import: it should be skipped (data.skipped), not fail the import.
    original = IotApi.describe_job

    def vanishing(self: IotApi, job_id: str) -> dict[str, Any] | None:
        return None if job_id == "gone" else original(self, job_id)

    monkeypatch.setattr(IotApi, "describe_job", vanishing)
    code, body = run("import", "--all", "--folder", str(repo))
    assert code == 0, body
    assert [w["jobId"] for w in body["data"]["written"]] == ["keep"], body


def test_import__job_deleted_between_describe_and_document__clear_error(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = IotApi.job_document

    def vanishing(self: IotApi, job_id: str) -> str | None:
        return None if job_id == "gone" else original(self, job_id)

    monkeypatch.setattr(IotApi, "job_document", vanishing)
    code, body = run("import", "gone", "--folder", str(repo))
    assert code == 1 and body["error"]["code"] == "IMPORT_ERROR", body
    assert "gone" in json.dumps(body["error"]), body
    assert not (repo / "gone.yaml").exists()


def test_import__all__two_long_ids_sharing_55_characters__both_imported(
        repo: Path) -> None:
    # AWS jobIds run to 64 characters, rollout names to 55: two jobs such as
    # "<50 characters>-batch-01" and "-batch-02" both become one rollout name, and the whole
    # import is refused ("would be rollout ..., which job ... is already; rename that
    # rollout, or import into another --out"): neither advice helps, and --all writes
    # nothing for the whole account. Import could give the second a distinct name:.
    import boto3

    iot = boto3.client("iot", region_name=REGION)
    stem = "gateway-firmware-2026-11-29-eu-west-fleet-rollout"  # 50 characters
    ids = [f"{stem}-batch-01", f"{stem}-batch-02"]
    for job_id in ids:
        iot.create_job(jobId=job_id, targets=[GROUP], document='{"op": "x"}')
    code, body = run("import", *ids, "--folder", str(repo))
    assert code == 0, body
    assert sorted(w["jobId"] for w in body["data"]["written"]) == ids
