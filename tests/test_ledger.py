"""The ledger keeps every record, even when applies write to it at the same time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.ledger import FileLedger, LedgerError, LedgerRecord, S3Ledger, open_ledger

from .conftest import REGION


def _records(writer: int, count: int) -> list[LedgerRecord]:
    return [LedgerRecord(f"job-{writer}-{i}", f"name-{writer}", "f" * 64, REGION,
                         "2026-11-28T12:00:00+00:00") for i in range(count)]


def _hammer(ledger: Any, writers: int = 8, each: int = 5) -> None:
    def write(writer: int) -> None:
        for record in _records(writer, each):
            ledger.append([record])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_file_ledger__concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    _hammer(ledger)
    assert len(ledger.job_ids()) == 40


class _Interleaving:
    """An S3 client that lets another writer write between this one's read and its put."""

    def __init__(self, client: Any, meddle: Any) -> None:
        self.client, self.meddle = client, meddle
        self.exceptions = client.exceptions
        self.precondition_failures = 0

    def get_object(self, **kwargs: Any) -> Any:
        answer = self.client.get_object(**kwargs)
        if self.meddle is not None:
            meddle, self.meddle = self.meddle, None
            meddle()  # the other apply writes now, after our read
        return answer

    def put_object(self, **kwargs: Any) -> Any:
        try:
            return self.client.put_object(**kwargs)
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "PreconditionFailed":
                self.precondition_failures += 1
            raise


def test_s3_ledger__a_write_between_read_and_put__is_not_lost(aws: None) -> None:
    # moto's in-process S3 is not thread-safe, so the race is staged rather than hoped for.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fleet-ledger",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    location = "s3://fleet-ledger/rollouts/ledger.json"
    open_ledger(location, Path("."), s3).append(_records(9, 1))  # the object exists
    other = open_ledger(location, Path("."), s3)
    client = _Interleaving(s3, lambda: other.append(_records(1, 2)))
    mine = open_ledger(location, Path("."), client)
    assert isinstance(mine, S3Ledger)
    mine.append(_records(0, 2))
    assert client.precondition_failures == 1  # the stale put was refused, then retried
    assert mine.job_ids() == {"job-9-0", "job-1-0", "job-1-1", "job-0-0", "job-0-1"}


def test_s3_ledger__first_write_races_on_a_missing_object(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fleet-ledger",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    location = "s3://fleet-ledger/new.json"
    other = open_ledger(location, Path("."), s3)

    class Missing(_Interleaving):
        def get_object(self, **kwargs: Any) -> Any:
            if self.meddle is not None:
                meddle, self.meddle = self.meddle, None
                try:
                    return self.client.get_object(**kwargs)
                finally:
                    meddle()
            return self.client.get_object(**kwargs)

    client = Missing(s3, lambda: other.append(_records(1, 1)))
    open_ledger(location, Path("."), client).append(_records(0, 1))
    assert client.precondition_failures == 1  # If-None-Match refused the blind create
    assert other.job_ids() == {"job-1-0", "job-0-0"}


def test_append_twice__one_record(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.json")
    ledger.append(_records(0, 1))
    ledger.append(_records(0, 1))
    assert '"job-0-0"' in (tmp_path / "ledger.json").read_text()
    assert (tmp_path / "ledger.json").read_text().count('"job-0-0"') == 1


@pytest.mark.parametrize("location", ["ftp://x/y", "s3://bucket-only", "s3:///key"])
def test_bad_location__clear_error(location: str) -> None:
    with pytest.raises(LedgerError):
        open_ledger(location, Path("."), object())


def test_corrupt_ledger_file__clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text("{not json")
    with pytest.raises(LedgerError, match="not valid JSON"):
        FileLedger(tmp_path / "ledger.json").job_ids()
