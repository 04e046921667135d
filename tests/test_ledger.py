"""The ledger keeps every record, reads old ledgers, and refuses damaged ones loudly."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.aws import Connection, ObjectStore, PreconditionFailed
from engine.ledger import (
    FileLedger,
    LedgerError,
    LedgerRecord,
    NoLedger,
    S3Ledger,
    open_ledger,
)

from .conftest import ACCOUNT, REGION

BUCKET = "fleet-ledger"
AT = "2026-11-28T12:00:00+00:00"


def _record(job_id: str = "job-0", **fields: Any) -> LedgerRecord:
    values: dict[str, Any] = {"event": "create", "job_id": job_id, "name": "fleet",
                              "spec_hash": "f" * 64, "region": REGION, "at": AT,
                              "project": "acme-fleet", "account": ACCOUNT, **fields}
    return LedgerRecord(**values)


def _records(writer: int, count: int) -> list[LedgerRecord]:
    return [_record(f"job-{writer}-{i}", name=f"name-{writer}") for i in range(count)]


def _job_ids(ledger: Any) -> set[str]:
    return {r.job_id for r in ledger.records()}


def _hammer(ledger: Any, writers: int = 8, each: int = 5) -> None:
    def write(writer: int) -> None:
        for record in _records(writer, each):
            ledger.append([record])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _v2(*items: Any) -> str:
    return json.dumps({"version": 2, "records": list(items)})


def _item(**fields: Any) -> dict[str, Any]:
    return {"event": "create", "jobId": "job-0", "name": "fleet", "specHash": "f" * 64,
            "region": REGION, "at": AT, "project": "acme-fleet", "account": ACCOUNT,
            "commit": None, "reason": None, **fields}


V1 = json.dumps({"version": 1, "jobs": [
    {"jobId": "old-1", "name": "fleet", "specHash": "a" * 64, "region": REGION,
     "createdAt": "2025-01-02T03:04:05+00:00", "commit": "abc123"},
    {"jobId": "old-2", "name": "other", "specHash": "b" * 64, "region": "us-east-1",
     "createdAt": "2025-02-02T03:04:05+00:00"},
]})


def _damaged(path: Path, text: str | bytes) -> LedgerError:
    """The error reading a ledger file holding ``text``; it names the file, on one line."""
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    with pytest.raises(LedgerError) as caught:
        FileLedger(path).records()
    message = str(caught.value)
    assert f"file://{path}" in message and "\n" not in message
    assert caught.value.code == "LEDGER_ERROR"
    return caught.value


# --- reading a file


def test_file_ledger__missing_file__is_a_new_empty_ledger(tmp_path: Path) -> None:
    assert FileLedger(tmp_path / "ledger.json").records() == []


def test_file_ledger__records__every_field_oldest_first(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    create = _record("job-1", commit="abc123")
    cancel = _record("job-0", event="cancel", reason="replace:job-1")
    ledger.append([_record("job-0")])
    ledger.append([create, cancel])
    assert ledger.records() == [_record("job-0"), create, cancel]
    saved = json.loads((tmp_path / "ledger.json").read_text())
    assert saved["version"] == 2
    assert saved["records"][2] == _item(event="cancel", reason="replace:job-1")


def test_file_ledger__end_record__keeps_status_and_times_and_only_it_carries_them(
        tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    end = _record("job-0", event="end", reason="", status="COMPLETED",
                  created_at="2026-01-01 00:00:00+00:00",
                  updated_at="2026-01-02 00:00:00+00:00")
    ledger.append([_record("job-0"), end])
    assert ledger.records() == [_record("job-0"), end]
    saved = json.loads((tmp_path / "ledger.json").read_text())["records"]
    assert saved[0] == _item()  # a create is written as before
    assert saved[1] == _item(event="end", reason="", status="COMPLETED",
                             createdAt="2026-01-01 00:00:00+00:00",
                             lastUpdatedAt="2026-01-02 00:00:00+00:00")


def test_file_ledger__end_status_not_a_string__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(event="end", status=3)))
    assert "status is not a string" in str(error)


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_file_ledger__empty_file__is_a_ledger_error(tmp_path: Path, text: str) -> None:
    error = _damaged(tmp_path / "ledger.json", text)
    assert "is empty" in str(error) and "restore it" in str(error)


def test_file_ledger__truncated_json__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(), _item(jobId="job-1"))[:-20])
    assert "is truncated" in str(error)


def test_file_ledger__invalid_json__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", "{not json}")
    assert "not valid JSON" in str(error)


def test_file_ledger__not_utf8__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", b'{"version": 2, "records": []}\xff\xfe')
    assert "not UTF-8" in str(error)


@pytest.mark.parametrize("text", ["[]", '"ledger"', "{}", '{"records": []}', '{"version": 2}',
                                  '{"version": 2, "records": {}}', '{"version": 1}'])
def test_file_ledger__not_the_expected_shape__is_a_ledger_error(tmp_path: Path,
                                                                 text: str) -> None:
    _damaged(tmp_path / "ledger.json", text)


def test_file_ledger__unknown_version__says_to_upgrade(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", '{"version": 3, "records": []}')
    assert "version 3" in str(error) and "upgrade rollouts" in str(error)


def test_file_ledger__record_not_an_object__names_its_index(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(), "job-1"))
    assert "record 1 " in str(error)


@pytest.mark.parametrize("key", ["jobId", "name", "region", "event", "specHash", "at"])
def test_file_ledger__record_lacks_a_field__names_its_index_and_the_field(
        tmp_path: Path, key: str) -> None:
    broken = {k: v for k, v in _item(jobId="job-1").items() if k != key}
    error = _damaged(tmp_path / "ledger.json", _v2(_item(), broken))
    assert "record 1" in str(error) and f"without {key}" in str(error)


def test_file_ledger__optional_field_not_a_string__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(account=123456789012)))
    assert "record 0" in str(error) and "account" in str(error)


def test_file_ledger__unknown_event__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(event="delete")))
    assert "record 0 (jobId job-0)" in str(error) and "'delete'" in str(error)


def test_file_ledger__path_is_a_directory__is_a_ledger_error(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").mkdir()
    ledger = FileLedger(tmp_path / "ledger.json")
    for attempt in (ledger.records, lambda: ledger.append([_record()])):
        with pytest.raises(LedgerError, match="is a directory"):
            attempt()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_file_ledger__unreadable_file__is_a_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(_v2(_item()))
    path.chmod(0)
    try:
        with pytest.raises(LedgerError, match=r"cannot read the ledger .* Permission denied"):
            FileLedger(path).records()
    finally:
        path.chmod(0o600)


def test_file_ledger__damaged__append_refuses_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("")
    with pytest.raises(LedgerError, match="is empty"):
        FileLedger(path).append([_record()])
    assert path.read_text() == ""


# --- version 1


def test_file_ledger__version_1__read_as_creates_without_project_or_account(
        tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text(V1)
    assert FileLedger(tmp_path / "ledger.json").records() == [
        LedgerRecord("create", "old-1", "fleet", "a" * 64, REGION,
                     "2025-01-02T03:04:05+00:00", commit="abc123"),
        LedgerRecord("create", "old-2", "other", "b" * 64, "us-east-1",
                     "2025-02-02T03:04:05+00:00"),
    ]


def test_file_ledger__version_1__upgraded_on_append_keeping_old_records(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(V1)
    ledger = FileLedger(path)
    old = ledger.records()
    ledger.append([_record("new-1")])
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and "jobs" not in saved
    assert ledger.records() == [*old, _record("new-1")]


def test_file_ledger__version_1__upgraded_even_when_nothing_is_new(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(V1)
    old = FileLedger(path).records()
    FileLedger(path).append(old[:1])
    assert json.loads(path.read_text())["version"] == 2
    assert FileLedger(path).records() == old


def test_file_ledger__version_1_record_lacks_a_field__is_a_ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json",
                     json.dumps({"version": 1, "jobs": [{"jobId": "x", "name": "n"}]}))
    assert "record 0 (jobId x)" in str(error) and "specHash" in str(error)


# --- dedup


def test_append__same_event_job_account_and_region__written_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = FileLedger(path)
    ledger.append([_record()])
    ledger.append([_record(at="2026-12-01T00:00:00+00:00", commit="later")])  # a rerun
    ledger.append([_record("job-1"), _record("job-1")])
    assert [r.job_id for r in ledger.records()] == ["job-0", "job-1"]
    assert path.read_text().count('"job-0"') == 1


def test_append__same_job_another_event_account_or_region__each_kept(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    variants = [_record(), _record(event="cancel", reason="prune"),
                _record(account="210987654321"), _record(region="us-east-1")]
    ledger.append(variants)
    assert ledger.records() == variants


# --- concurrency, files


def test_file_ledger__concurrent_appends_from_threads__lose_nothing(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    _hammer(ledger)
    assert len(ledger.records()) == 40
    assert len(_job_ids(ledger)) == 40
    assert not list(tmp_path.glob(".ledger.json.*"))  # no temporary file left behind


def _append_as_process(path: str, writer: int) -> None:
    ledger = FileLedger(Path(path))
    for record in _records(writer, 5):
        ledger.append([record])


def test_file_ledger__concurrent_appends_from_processes__lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_as_process, args=(str(path), w))
               for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    assert len(FileLedger(path).records()) == 20


# --- S3


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def _store(client: Any = None) -> ObjectStore:
    return ObjectStore(Connection(region=REGION, rate=0), client=client)


def _s3_ledger(client: Any = None, key: str = "rollouts/ledger.json") -> S3Ledger:
    ledger = open_ledger(f"s3://{BUCKET}/{key}", Path("."), _store(client))
    assert isinstance(ledger, S3Ledger)
    return ledger


def test_s3_ledger__missing_key__is_a_new_empty_ledger(s3: Any) -> None:
    assert _s3_ledger().records() == []


def test_s3_ledger__append__written_as_version_2(s3: Any) -> None:
    ledger = _s3_ledger()
    ledger.append([_record(), _record()])
    body = s3.get_object(Bucket=BUCKET, Key="rollouts/ledger.json")["Body"].read()
    assert json.loads(body) == {"version": 2, "records": [_item()]}
    assert ledger.records() == [_record()]


def test_s3_ledger__version_1_object__read_and_upgraded_on_append(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="rollouts/ledger.json", Body=V1.encode())
    ledger = _s3_ledger()
    old = ledger.records()
    assert [r.job_id for r in old] == ["old-1", "old-2"]
    ledger.append([_record("new-1")])
    assert ledger.records() == [*old, _record("new-1")]


@pytest.mark.parametrize("body", [b"", b'{"version": 2, "records": [', b"\xff"])
def test_s3_ledger__damaged_object__is_a_ledger_error(s3: Any, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key="rollouts/ledger.json", Body=body)
    with pytest.raises(LedgerError, match=f"the ledger s3://{BUCKET}/rollouts/ledger.json"):
        _s3_ledger().records()
    with pytest.raises(LedgerError):
        _s3_ledger().append([_record()])
    assert s3.get_object(Bucket=BUCKET, Key="rollouts/ledger.json")["Body"].read() == body


def test_s3_ledger__no_such_bucket__is_a_ledger_error(aws: None) -> None:
    ledger = _s3_ledger()
    for attempt in (ledger.records, lambda: ledger.append([_record()])):
        with pytest.raises(LedgerError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"cannot read the ledger s3://{BUCKET}/rollouts/ledger.json")
        assert "NoSuchBucket" in message and "create the bucket" in message
        assert "\n" not in message


def test_object_store__counts_calls_by_operation(s3: Any) -> None:
    store = _store()
    ledger = open_ledger(f"s3://{BUCKET}/l.json", Path("."), store)
    ledger.append([_record()])  # a read that finds nothing, then a create
    ledger.append([_record()])  # a read that finds it there: nothing to write
    ledger.records()
    assert store.calls == {"GetObject": 3, "PutObject": 1}


def test_object_store__conditional_puts__lose_a_race_as_precondition_failed(s3: Any) -> None:
    store = _store()
    store.put(BUCKET, "k", b"one", if_none_match=True)
    found = store.get(BUCKET, "k")
    assert found is not None and found[0] == b"one"
    with pytest.raises(PreconditionFailed):
        store.put(BUCKET, "k", b"two", if_none_match=True)
    store.put(BUCKET, "k", b"two", if_match=found[1])
    with pytest.raises(PreconditionFailed):
        store.put(BUCKET, "k", b"three", if_match=found[1])  # the ETag is stale now
    assert store.get(BUCKET, "missing") is None
    assert store.calls == {"PutObject": 4, "GetObject": 2}


class _Atomic:
    """An S3 client whose requests are each one step, as S3's are. moto's in-process S3
    is not: a put closes the buffer a concurrent get is reading, and it checks a put's
    condition apart from the write. The race that matters, between an append's read and
    its put, stays open."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.Lock()

    def get_object(self, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.get_object(**kwargs)

    def put_object(self, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.put_object(**kwargs)


def test_s3_ledger__concurrent_appends_from_threads__lose_nothing(s3: Any) -> None:
    store = _store(_Atomic(s3))
    ledger = S3Ledger(BUCKET, "rollouts/ledger.json", store)
    _hammer(ledger)
    assert len(ledger.records()) == 40
    assert store.calls["PutObject"] >= 40  # each append wrote once, some after a lost race


class _Interleaving:
    """An S3 client that lets another writer write between this one's read and its put."""

    def __init__(self, client: Any, meddle: Any) -> None:
        self.client, self.meddle = client, meddle

    def _meddle(self) -> None:
        if self.meddle is not None:
            meddle, self.meddle = self.meddle, None
            meddle()  # the other apply writes now, after our read

    def get_object(self, **kwargs: Any) -> Any:
        try:
            return self.client.get_object(**kwargs)
        finally:
            self._meddle()

    def put_object(self, **kwargs: Any) -> Any:
        return self.client.put_object(**kwargs)


def _precondition_failures(store: ObjectStore) -> int:
    return store.calls["PutObject"] - 1  # every put but the last lost its race


def test_s3_ledger__a_write_between_read_and_put__is_not_lost(s3: Any) -> None:
    _s3_ledger().append(_records(9, 1))  # the object exists
    other = _s3_ledger()
    store = _store(_Interleaving(s3, lambda: other.append(_records(1, 2))))
    mine = S3Ledger(BUCKET, "rollouts/ledger.json", store)
    mine.append(_records(0, 2))
    assert _precondition_failures(store) == 1  # the stale put was refused, then retried
    assert _job_ids(mine) == {"job-9-0", "job-1-0", "job-1-1", "job-0-0", "job-0-1"}


def test_s3_ledger__first_write_races_on_a_missing_object(s3: Any) -> None:
    other = _s3_ledger(key="new.json")
    store = _store(_Interleaving(s3, lambda: other.append(_records(1, 1))))
    S3Ledger(BUCKET, "new.json", store).append(_records(0, 1))
    assert _precondition_failures(store) == 1  # If-None-Match refused the blind create
    assert _job_ids(other) == {"job-1-0", "job-0-0"}


# --- locations


def test_open_ledger__none__is_no_ledger() -> None:
    assert isinstance(open_ledger(None, Path(".")), NoLedger)
    assert NoLedger().records() == []


def test_open_ledger__relative_file__under_base(tmp_path: Path) -> None:
    ledger = open_ledger("file://state/ledger.json", tmp_path)
    assert isinstance(ledger, FileLedger) and ledger.path == tmp_path / "state/ledger.json"


@pytest.mark.parametrize("location", ["ftp://x/y", "s3://bucket-only", "s3:///key"])
def test_open_ledger__bad_location__clear_error(location: str) -> None:
    with pytest.raises(LedgerError, match=location):
        open_ledger(location, Path("."), _store(object()))


def test_open_ledger__s3_without_a_store__clear_error() -> None:
    with pytest.raises(LedgerError, match="needs an S3 connection"):
        open_ledger("s3://b/k", Path("."))


def test_file_ledger__record_of_no_region__ledger_error(tmp_path: Path) -> None:
    error = _damaged(tmp_path / "ledger.json", _v2(_item(region="garbage")))
    assert "region 'garbage' is no region name" in str(error)
