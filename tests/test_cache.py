"""The validation cache: a warm run sees exactly what a cold one does, and any change to a
manifest, a defaults file or a document file is seen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.validate import Validation, validate_folder

from .conftest import REPO


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ROLLOUTS_NO_CACHE", raising=False)


def _seen(result: Validation) -> tuple[object, ...]:
    return (sorted((j.name, j.manifest.model_dump_json(), j.document, j.source, j.line,
                    j.region) for j in result.jobs), sorted(map(str, result.problems)))


def _cache_files() -> list[Path]:
    return list((Path(os.environ["XDG_CACHE_HOME"]) / "iot-rollouts").glob("*.json"))


def test_warm_run__same_jobs_and_problems_as_cold(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "rollouts"
    shutil.copytree(REPO / "rollouts", root)
    (root / "bad.yaml").write_text("targets: []\ndocument: {}\n")
    cold = validate_folder(root, use_cache=True)
    assert _cache_files(), "the first run writes the cache"
    warm = validate_folder(root, use_cache=True)
    assert _seen(warm) == _seen(cold) == _seen(validate_folder(root))


@pytest.mark.parametrize("change", ["manifest", "defaults", "document-file", "config"])
def test_a_change__is_seen_by_the_next_run(change: str, tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    (root / "fw").mkdir(parents=True)
    (root / "_config.yaml").write_text("region: eu-west-1\n")
    (root / "fw" / "_defaults.yaml").write_text("timeoutConfig: {inProgressTimeoutInMinutes: 5}\n")
    (root / "fw" / "doc.json").write_text('{"v": 1}')
    (root / "fw" / "job.yaml").write_text("targets: [thing/a]\ndocumentFile: doc.json\n")
    validate_folder(root, use_cache=True)
    if change == "manifest":
        (root / "fw" / "job.yaml").write_text("targets: [thing/b]\ndocumentFile: doc.json\n")
    elif change == "defaults":
        (root / "fw" / "_defaults.yaml").write_text(
            "timeoutConfig: {inProgressTimeoutInMinutes: 9}\n")
    elif change == "document-file":
        (root / "fw" / "doc.json").write_text('{"v": 2}')
    else:
        (root / "_config.yaml").write_text("region: us-east-1\n")
    assert _seen(validate_folder(root, use_cache=True)) == _seen(validate_folder(root))


def test_damaged_cache__ignored(tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "a.yaml").write_text("targets: [thing/a]\ndocument: {}\n")
    validate_folder(root, use_cache=True)
    (path,) = _cache_files()
    body = json.loads(path.read_text())
    for entry in body["entries"].values():
        entry["jobs"][0]["manifest"] = {"targets": "not a list"}
    path.write_text(json.dumps(body))
    assert _seen(validate_folder(root, use_cache=True)) == _seen(validate_folder(root))
    path.write_text("{not json")
    assert _seen(validate_folder(root, use_cache=True)) == _seen(validate_folder(root))


def test_in_ci__no_cache_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "a.yaml").write_text("targets: [thing/a]\ndocument: {}\n")
    validate_folder(root, use_cache=True)
    assert _cache_files() == []
