"""The validation cache: a warm run sees exactly what a cold one does, and any change to a
manifest, a defaults file or a document file is seen."""

from __future__ import annotations

import json
import marshal
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
    # The manifest's model, rebuilt for a cached job, holds its document as the canonical
    # text parses (same content, keys sorted): compared through ``document``.
    return (sorted((j.name, j.manifest.model_dump_json(exclude={"document"}), j.document,
                    j.source, j.line, j.region) for j in result.jobs),
            sorted(map(str, result.problems)))


def _cached(root: Path) -> Validation:
    """A run with the cache, saved at its end as a plan saves it."""
    result = validate_folder(root, use_cache=True)
    result.save_cache()
    return result


def _cache_files() -> list[Path]:
    return list((Path(os.environ["XDG_CACHE_HOME"]) / "iot-rollouts").glob("validation-*"))


def test_warm_run__same_jobs_and_problems_as_cold(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "rollouts"
    shutil.copytree(REPO / "rollouts", root)
    (root / "bad.yaml").write_text("targets: []\ndocument: {}\n")
    cold = _cached(root)
    assert _cache_files(), "the first run writes the cache"
    warm = _cached(root)
    assert _seen(warm) == _seen(cold) == _seen(validate_folder(root))


@pytest.mark.parametrize("change", ["manifest", "defaults", "document-file", "config"])
def test_a_change__is_seen_by_the_next_run(change: str, tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    (root / "fw").mkdir(parents=True)
    (root / "_config.yaml").write_text("region: eu-west-1\n")
    (root / "fw" / "_defaults.yaml").write_text("timeoutConfig: {inProgressTimeoutInMinutes: 5}\n")
    (root / "fw" / "doc.json").write_text('{"v": 1}')
    (root / "fw" / "job.yaml").write_text("targets: [thing/a]\ndocumentFile: doc.json\n")
    _cached(root)
    if change == "manifest":
        (root / "fw" / "job.yaml").write_text("targets: [thing/b]\ndocumentFile: doc.json\n")
    elif change == "defaults":
        (root / "fw" / "_defaults.yaml").write_text(
            "timeoutConfig: {inProgressTimeoutInMinutes: 9}\n")
    elif change == "document-file":
        (root / "fw" / "doc.json").write_text('{"v": 2}')
    else:
        (root / "_config.yaml").write_text("region: us-east-1\n")
    assert _seen(_cached(root)) == _seen(validate_folder(root))


def test_damaged_cache__ignored(tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "a.yaml").write_text("targets: [thing/a]\ndocument: {}\n")
    _cached(root)
    (path,) = _cache_files()
    written = path.read_bytes()
    body = marshal.loads(written)
    for jobs, _problems, _deps in body["entries"].values():
        jobs[0]["manifest"] = {"targets": "not a list"}
    path.write_bytes(marshal.dumps(body))
    assert _seen(_cached(root)) == _seen(validate_folder(root))
    # Entries and path records of the wrong shape: each file is validated afresh.
    for entries, paths in (({k: "junk" for k in body["entries"]}, body["paths"]),
                           ({k: (1, 2, 3) for k in body["entries"]}, body["paths"]),
                           ({k: ([1], [], []) for k in body["entries"]}, body["paths"]),
                           ({k: ([], [], [1]) for k in body["entries"]}, body["paths"]),
                           (body["entries"], {k: (1, 2) for k in body["paths"]}),
                           (body["entries"], {k: ("sig", "key", "x") for k in body["paths"]}),
                           ([], body["paths"])):
        path.write_bytes(marshal.dumps({**marshal.loads(written), "entries": entries,
                                        "paths": paths}))
        assert _seen(_cached(root)) == _seen(validate_folder(root))
    for damage in (b"{not marshal", path.read_bytes()[:40], marshal.dumps([1, 2])):
        path.write_bytes(damage)
        assert _seen(_cached(root)) == _seen(validate_folder(root))


def test_in_ci__no_cache_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "a.yaml").write_text("targets: [thing/a]\ndocument: {}\n")
    _cached(root)
    assert _cache_files() == []


@pytest.mark.parametrize("document", ["document: {b: 1, a: [x]}", "document: '{\"b\": 1}'",
                                      "documentFile: doc.json",
                                      "documentSource: https://s3.amazonaws.com/b/d.json"])
def test_cached_job__model_rebuilt_with_its_document(document: str, tmp_path: Path) -> None:
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "doc.json").write_text('{"v": 2}')
    (root / "a.yaml").write_text(f"targets: [thing/a]\n{document}\n")
    (fresh,) = _cached(root).jobs
    (cached,) = _cached(root).jobs
    assert "manifest" not in cached.__dict__  # not built until asked for
    rebuilt, original = cached.manifest, fresh.manifest
    assert rebuilt.model_dump(exclude={"document"}) == original.model_dump(exclude={"document"})
    inline = original.document
    if isinstance(inline, str):
        inline = json.loads(inline)
    assert rebuilt.document == inline


def test_spec_hashes__kept_for_the_next_run_of_the_same_account_and_region(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import desired as desired_module
    from engine.spec import spec_hash

    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "a.yaml").write_text("targets: [thing/a]\ndocument: {v: 1}\n")
    first = validate_folder(root, use_cache=True)
    (fresh,) = [desired_module.desire(j, project="acme", account="111111111111",
                                      region="eu-west-1", commit=None,
                                      hashes=first.spec_hashes)
                for j in first.jobs]
    first.save_cache()

    def no_hashing(request: object) -> str:
        raise AssertionError("the hash was kept by the cache")

    second = validate_folder(root, use_cache=True)
    with monkeypatch.context() as patch:
        patch.setattr(desired_module, "spec_hash", no_hashing)
        (again,) = [desired_module.desire(j, project="acme", account="111111111111",
                                          region="eu-west-1", commit=None,
                                          hashes=second.spec_hashes)
                    for j in second.jobs]
    assert (again.job_id, again.spec_hash, again.request) == (
        fresh.job_id, fresh.spec_hash, fresh.request)
    # Another account resolves the targets to other ARNs: a hash of its own.
    (other,) = [desired_module.desire(j, project="acme", account="222222222222",
                                      region="eu-west-1", commit=None,
                                      hashes=second.spec_hashes)
                for j in second.jobs]
    assert other.spec_hash != fresh.spec_hash
    assert other.spec_hash == spec_hash(other.spec)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from engine import validate as validate_module

    seen: list[str] = []
    original = validate_module.read_raw

    def spy(path: str | Path) -> bytes | OSError:
        seen.append(str(path))
        return original(path)

    monkeypatch.setattr(validate_module, "read_raw", spy)
    return seen


def _folder(tmp_path: Path, count: int = 3) -> Path:
    root = tmp_path / "rollouts"
    root.mkdir()
    for i in range(count):
        (root / f"j{i}.yaml").write_text(f"targets: [thing/a{i}]\ndocument: {{v: {i}}}\n")
    return root


def test_unchanged_files__not_read_again(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.cache

    monkeypatch.setattr(engine.cache, "RACY_NS", 0)  # the files count as old at once
    root = _folder(tmp_path)
    first = _cached(root)
    reads = _reads(monkeypatch)
    assert _seen(_cached(root)) == _seen(first)
    assert reads == []


def test_edit_that_keeps_size_and_mtime__still_seen(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.cache

    monkeypatch.setattr(engine.cache, "RACY_NS", 0)
    root = _folder(tmp_path)
    _cached(root)
    job = root / "j1.yaml"
    before = job.stat()
    job.write_text(job.read_text().replace("a1", "b1"))  # same size
    os.utime(job, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    reads = _reads(monkeypatch)
    after = _cached(root)
    assert reads == [str(job)]  # ctime moved: read again
    assert _seen(after) == _seen(validate_folder(root))
    assert any("thing/b1" in j.data["targets"] for j in after.jobs)


def test_file_changed_just_before_it_was_read__read_again_next_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _folder(tmp_path)  # written now: within the racy window of this run
    _cached(root)
    reads = _reads(monkeypatch)
    _cached(root)
    assert len(reads) == 3
