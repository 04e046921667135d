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


def test_s3_ledger__conditional_puts_lose_nothing_under_concurrency(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fleet-ledger",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    ledger = open_ledger("s3://fleet-ledger/rollouts/ledger.json", Path("."), s3)
    assert isinstance(ledger, S3Ledger)
    _hammer(ledger)
    assert len(ledger.job_ids()) == 40


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
