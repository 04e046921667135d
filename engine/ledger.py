"""The ledger: every job this tool created, kept outside AWS (DESIGN.md section 5).

A job is a one-shot action: one that ran must not run again because AWS later deleted or
purged it. A desired job missing from AWS but present in the ledger is "already applied".
Homes: ``file://path`` (local use, the sandbox) and ``s3://bucket/key`` (written with
conditional puts, so two applies at once cannot lose a record).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from engine.errors import RolloutsError


class LedgerError(RolloutsError):
    code = "LEDGER_ERROR"


@dataclass(frozen=True)
class LedgerRecord:
    job_id: str
    name: str
    spec_hash: str
    region: str
    created_at: str
    commit: str | None = None


class Ledger(Protocol):
    location: str

    def job_ids(self) -> set[str]: ...

    def append(self, records: list[LedgerRecord]) -> None: ...


def _parse(text: str, where: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LedgerError(f"the ledger {where} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise LedgerError(f"the ledger {where} is not a rollouts ledger")
    jobs: list[dict[str, Any]] = data["jobs"]
    return jobs


def _dump(jobs: list[dict[str, Any]]) -> str:
    return json.dumps({"version": 1, "jobs": jobs}, indent=1, sort_keys=True) + "\n"


class NoLedger:
    """No ledger set: nothing remembered beyond what AWS holds."""

    location = "none"

    def job_ids(self) -> set[str]:
        return set()

    def append(self, records: list[LedgerRecord]) -> None:
        pass


class FileLedger:
    """A JSON file; appends hold an exclusive lock and replace the file atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"file://{path}"

    def job_ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        return {r["jobId"] for r in _parse(self.path.read_text(), self.location)}

    def append(self, records: list[LedgerRecord]) -> None:
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            jobs = _parse(self.path.read_text(), self.location) if self.path.exists() else []
            known = {r["jobId"] for r in jobs}
            jobs += [_record_json(r) for r in records if r.job_id not in known]
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-")
            with os.fdopen(fd, "w") as handle:
                handle.write(_dump(jobs))
            os.replace(tmp, self.path)


class S3Ledger:
    """A JSON object in S3, updated with If-Match / If-None-Match so no write is lost."""

    def __init__(self, bucket: str, key: str, client: Any) -> None:
        self.bucket, self.key, self.client = bucket, key, client
        self.location = f"s3://{bucket}/{key}"

    def _read(self) -> tuple[list[dict[str, Any]], str | None]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            return [], None
        body = answer["Body"].read().decode("utf-8")
        return _parse(body, self.location), answer["ETag"]

    def job_ids(self) -> set[str]:
        return {r["jobId"] for r in self._read()[0]}

    def append(self, records: list[LedgerRecord]) -> None:
        for _ in range(20):
            jobs, etag = self._read()
            known = {r["jobId"] for r in jobs}
            jobs += [_record_json(r) for r in records if r.job_id not in known]
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self.client.put_object(Bucket=self.bucket, Key=self.key,
                                       Body=_dump(jobs).encode(), **condition)
                return
            except Exception as exc:  # botocore's ClientError; only the adapter imports botocore
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code not in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                    raise LedgerError(f"cannot write the ledger {self.location}: {exc}") from exc
        raise LedgerError(f"the ledger {self.location} kept changing; try again")


def _record_json(record: LedgerRecord) -> dict[str, Any]:
    data = asdict(record)
    data["jobId"] = data.pop("job_id")
    data["specHash"] = data.pop("spec_hash")
    data["createdAt"] = data.pop("created_at")
    return data


def open_ledger(location: str | None, base: Path, s3_client: Any = None) -> Ledger:
    """The ledger at ``location`` (``file://`` relative to ``base``, or ``s3://``)."""
    if not location:
        return NoLedger()
    if location.startswith("file://"):
        path = Path(location.removeprefix("file://"))
        return FileLedger(path if path.is_absolute() else base / path)
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise LedgerError(f"ledger {location}: expected s3://bucket/key")
        if s3_client is None:
            raise LedgerError(f"ledger {location}: no S3 client to reach it")
        return S3Ledger(bucket, key, s3_client)
    raise LedgerError(f"ledger {location}: expected s3://bucket/key or file://path")
