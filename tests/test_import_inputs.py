"""``rollouts import`` with odd --out targets, jobs that vanish mid-read, long jobIds
alike, and jobIds no manifest can pin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.aws import IotApi
from engine.cli import main

from .conftest import ACCOUNT, REGION, make_repo

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
    afile = repo.parent / "afile"
    afile.write_text("")
    code, body = run("import", "keep", "--folder", str(repo), "--out", str(afile))
    assert code == 1 and body["success"] is False
    assert body["error"]["code"] == "IMPORT_ERROR", body
    assert f"--out {afile} is a file" in body["error"]["message"], body
    assert "unexpected" not in body["error"]["message"], body


def test_import__out_below_a_file__import_error_and_nothing_written(repo: Path) -> None:
    afile = repo.parent / "afile"
    afile.write_text("")
    code, body = run("import", "keep", "--folder", str(repo), "--out", str(afile / "sub"))
    assert code == 1 and body["error"]["code"] == "IMPORT_ERROR", body
    assert "name another --out" in body["error"]["message"], body
    assert afile.read_text() == ""


def test_import__all__job_deleted_after_listing__others_imported(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --all lists the active jobs, then reads each; a job deleted in between is no longer
    # an active job to import: it is skipped (data.skipped), the others are imported.
    original = IotApi.describe_job

    def vanishing(self: IotApi, job_id: str) -> dict[str, Any] | None:
        return None if job_id == "gone" else original(self, job_id)

    monkeypatch.setattr(IotApi, "describe_job", vanishing)
    code, body = run("import", "--all", "--folder", str(repo))
    assert code == 0, body
    assert [w["jobId"] for w in body["data"]["written"]] == ["keep"], body
    assert body["data"]["skipped"] == [
        {"jobId": "gone", "reason": "deleted after ListJobs listed it"}], body
    assert not (repo / "gone.yaml").exists()


def test_import__all__job_deleted_between_describe_and_document__skipped(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = IotApi.job_document

    def vanishing(self: IotApi, job_id: str) -> str | None:
        return None if job_id == "gone" else original(self, job_id)

    monkeypatch.setattr(IotApi, "job_document", vanishing)
    code, body = run("import", "--all", "--folder", str(repo))
    assert code == 0, body
    assert [w["jobId"] for w in body["data"]["written"]] == ["keep"], body
    assert [s["jobId"] for s in body["data"]["skipped"]] == ["gone"], body


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
    # AWS jobIds run to 64 characters, rollout names to 55: two jobIds alike in their
    # first 55 characters get two names (each ends with a hash of its whole jobId).
    import boto3

    iot = boto3.client("iot", region_name=REGION)
    stem = "gateway-firmware-2026-11-29-eu-west-fleet-rollout"  # 50 characters
    ids = [f"{stem}-batch-01", f"{stem}-batch-02"]
    for job_id in ids:
        iot.create_job(jobId=job_id, targets=[GROUP], document='{"op": "x"}')
    code, body = run("import", *ids, "--folder", str(repo))
    assert code == 0, body
    assert sorted(w["jobId"] for w in body["data"]["written"]) == ids
    names = [w["name"] for w in body["data"]["written"]]
    assert len(set(names)) == 2 and all(len(n) <= 55 for n in names), names
    assert all(n.startswith(stem[:48] + "-") for n in names), names


@pytest.fixture
def odd_job(repo: Path) -> str:
    import boto3

    job_id = "caf\u00e9-rollout"  # moto lets it be made; AWS's pattern and the schema do not
    boto3.client("iot", region_name=REGION).create_job(
        jobId=job_id, targets=[GROUP], document='{"op": "x"}')
    return job_id


def test_import__job_id_the_schema_refuses__import_error_naming_it_and_why(
        repo: Path, odd_job: str) -> None:
    code, body = run("import", odd_job, "keep", "--folder", str(repo))
    assert code == 1 and body["error"]["code"] == "IMPORT_ERROR", body
    message = body["error"]["message"]
    assert f"job {odd_job} is not importable: its jobId has characters" in message, body
    assert "'\u00e9'" in message and "please report this" not in message, body
    assert list(repo.glob("*.yaml")) == [repo / "_config.yaml"]


def test_import__all__job_id_the_schema_refuses__skipped_others_imported(
        repo: Path, odd_job: str) -> None:
    code, body = run("import", "--all", "--folder", str(repo))
    assert code == 0, body
    assert sorted(w["jobId"] for w in body["data"]["written"]) == ["gone", "keep"], body
    (skipped,) = body["data"]["skipped"]
    assert skipped["jobId"] == odd_job and "its jobId has characters" in skipped["reason"]
