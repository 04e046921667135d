"""The ledger: every job this tool created or canceled, kept outside AWS (DESIGN.md section 5).

A job is a one-shot action: one that ran must not run again because AWS later deleted or
purged it. A desired job missing from AWS but present in the ledger is "already applied".
Homes: ``file://path`` (local use, the sandbox) and ``s3://bucket/key`` (written with
conditional puts, so two applies at once cannot lose a record).

The format, version 2::

    {"version": 2, "records": [{"event": "create", "jobId": ..., "name": ..., "specHash": ...,
      "region": ..., "at": ..., "project": ..., "account": ..., "commit": ..., "reason": ...}]}

An ``end`` record says how a job of the project ended, once an apply has read it
(``status``, ``createdAt``, ``lastUpdatedAt`` from DescribeJob, ``reason`` its
``reasonCode``): a finished job stays finished, so later plans know it without reading it
again, and a plan's cost follows the running rollouts, not the finished ones.

Version 1 (``{"version": 1, "jobs": [{jobId, name, specHash, region, createdAt, commit}]}``)
is still read, each job a ``create`` with no project or account; the first append rewrites
it as version 2. A missing ledger is a new, empty one; a damaged one is a ``LedgerError``,
never read as empty, since an empty ledger would let finished rollouts run again.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from engine.aws import AwsError, NotFound, ObjectStore, PreconditionFailed
from engine.errors import RolloutsError
from engine.schema.constraints import REGION_PATTERN

VERSION = 2
EVENTS = ("create", "cancel", "end")
# Appends are retried by reruns: a record with the same key is already written.
DEDUP_FIELDS = ("event", "job_id", "account", "region")
PUT_ATTEMPTS = 30

_RESTORE = ("restore it from a backup or its version history (do not delete it: "
            "without it, finished rollouts would run again)")


class LedgerError(RolloutsError):
    """The ledger cannot be read or written; the message names it, the fault and a remedy."""

    code = "LEDGER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the cause said


@dataclass(frozen=True)
class LedgerRecord:
    """One event in a job's life that this tool caused."""

    event: str  # "create" | "cancel" | "end"
    job_id: str
    name: str
    spec_hash: str
    region: str
    at: str  # ISO time
    project: str | None = None  # None only in records written by version 1 of the ledger
    account: str | None = None  # None only in version-1 records
    commit: str | None = None
    # for a cancel: "replace:<new jobId>" or "prune"; for a create, "adopt" where the tool
    # took over a job it did not make (rollouts import, a pinned jobId); an end's reasonCode
    reason: str | None = None
    # For an end: the job's status, and its times as DescribeJob gave them.
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Ledger(Protocol):
    location: str

    def records(self) -> list[LedgerRecord]:
        """Every record, oldest first; LedgerError if the ledger is damaged."""
        ...

    def append(self, records: list[LedgerRecord]) -> None: ...


# --- the format

# JSON key of each field, in the order a record is written.
_KEYS = {"event": "event", "job_id": "jobId", "name": "name", "spec_hash": "specHash",
         "region": "region", "at": "at", "project": "project", "account": "account",
         "commit": "commit", "reason": "reason", "status": "status",
         "created_at": "createdAt", "updated_at": "lastUpdatedAt"}
_REGION = re.compile(REGION_PATTERN)
_REQUIRED = ("event", "job_id", "name", "spec_hash", "region", "at")
# Fields only an end record carries (left out of the others, as earlier versions wrote them).
_END_ONLY = ("status", "created_at", "updated_at")
# Version 1 knew only creates, and called the time createdAt.
_V1_KEYS = {f: key for f, key in {**_KEYS, "at": "createdAt"}.items() if f not in _END_ONLY}


def _damaged(where: str, what: str) -> LedgerError:
    return LedgerError(f"the ledger {where} {what}; {_RESTORE}")


def _parse(data: bytes, where: str) -> tuple[int, list[LedgerRecord]]:
    """The version and records of a ledger's bytes; LedgerError if they are damaged."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _damaged(where, f"is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise _damaged(where, "is empty (an existing ledger never is)")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # It ends before the JSON does: the parser stopped in the last token (a cut `nul`,
        # nothing at all), or in a string that never closes (a string cannot hold a newline,
        # so one left open runs to the end).
        last_token = not set(text[exc.pos:].rstrip()) & set(' \t\n,:[]{}"')
        truncated = last_token or exc.msg.startswith("Unterminated string")
        raise _damaged(where, f"is {'truncated' if truncated else 'not valid JSON'} "
                              f"({exc})") from exc
    except RecursionError as exc:  # arrays nested thousands deep: no ledger looks like that
        raise _damaged(where, "is not a rollouts ledger (nested too deep)") from exc
    if not isinstance(document, dict) or "version" not in document:
        raise _damaged(where, 'is not a rollouts ledger (expected {"version": 2, '
                              '"records": [...]})')
    version = document["version"]
    if type(version) is not int or version not in (1, VERSION):
        raise LedgerError(f"the ledger {where} has version {version!r}, which this rollouts "
                          f"does not know; upgrade rollouts")
    items_key, keys = ("jobs", _V1_KEYS) if version == 1 else ("records", _KEYS)
    items = document.get(items_key)
    if not isinstance(items, list):
        raise _damaged(where, f'(version {version}) has no "{items_key}" list')
    return version, [_record(item, index, keys, version, where)
                     for index, item in enumerate(items)]


def _record(item: Any, index: int, keys: dict[str, str], version: int,
            where: str) -> LedgerRecord:
    if not isinstance(item, dict):
        raise _damaged(where, f"has record {index} that is not an object")
    if version == 1:
        item = {**item, "event": "create"}
    label = f"record {index}" + (f" (jobId {item['jobId']})"
                                 if isinstance(item.get("jobId"), str) else "")
    missing = [keys[f] for f in _REQUIRED
               if not isinstance(item.get(keys[f]), str) or not item[keys[f]]]
    if missing:
        raise _damaged(where, f"has {label} without {', '.join(missing)}")
    wrong = [keys[f] for f in keys if f not in _REQUIRED
             and not isinstance(item.get(keys[f]), (str, type(None)))]
    if wrong:
        raise _damaged(where, f"has {label} whose {', '.join(wrong)} is not a string")
    if item["event"] not in EVENTS:
        raise _damaged(where, f"has {label} with an unknown event {item['event']!r} "
                              f"(expected {' or '.join(EVENTS)})")
    if not _REGION.fullmatch(item[keys["region"]]):
        raise _damaged(where, f"has {label} whose region {item[keys['region']]!r} is no "
                              "region name")
    return LedgerRecord(**{f: item.get(keys[f]) for f in keys})


def _dump(records: list[LedgerRecord]) -> bytes:
    """A ledger holding ``records``, in the current version."""
    items = [{key: getattr(r, field) for field, key in _KEYS.items()
              if field not in _END_ONLY or r.event == "end"} for r in records]
    return (json.dumps({"version": VERSION, "records": items}, indent=1) + "\n").encode()


def _dedup_key(record: LedgerRecord) -> tuple[str | None, ...]:
    return tuple(getattr(record, f) for f in DEDUP_FIELDS)


def _merged(old: list[LedgerRecord], new: list[LedgerRecord]) -> list[LedgerRecord]:
    """``old`` followed by each record of ``new`` not already written (same dedup key)."""
    seen = {_dedup_key(r) for r in old}
    result = list(old)
    for record in new:
        if _dedup_key(record) not in seen:
            seen.add(_dedup_key(record))
            result.append(record)
    return result


# --- the homes


class NoLedger:
    """No ledger set: nothing remembered beyond what AWS holds."""

    location = "none"

    def records(self) -> list[LedgerRecord]:
        return []

    def append(self, records: list[LedgerRecord]) -> None:
        pass


class FileLedger:
    """A JSON file; appends hold an exclusive lock and replace the file atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"file://{path}"

    def _os_error(self, exc: OSError, doing: str) -> LedgerError:
        if isinstance(exc, IsADirectoryError):
            return LedgerError(f"the ledger {self.location} is a directory, not a file; "
                               f"point the ledger location at a file")
        reason = exc.strerror or type(exc).__name__
        return LedgerError(f"cannot {doing} the ledger {self.location}: {reason} "
                           f"({exc.filename or self.path}); give this user read and write "
                           f"access to it and its folder")

    def _read(self) -> tuple[int, list[LedgerRecord]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return VERSION, []  # a new ledger
        except OSError as exc:
            raise self._os_error(exc, "read") from exc
        return _parse(data, self.location)

    def records(self) -> list[LedgerRecord]:
        return self._read()[1]

    def append(self, records: list[LedgerRecord]) -> None:
        if not records:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            with lock_path.open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the lock file closes
                version, old = self._read()
                new = _merged(old, records)
                if len(new) > len(old) or version != VERSION:
                    self._replace(_dump(new))
        except OSError as exc:
            raise self._os_error(exc, "write") from exc

    def _replace(self, data: bytes) -> None:
        """Write ``data`` beside the ledger, then rename it over: a reader (or a crash)
        sees the old ledger or the new one, never half of one."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if self.path.exists():  # mkstemp's 0600 would narrow who may read the ledger
                os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)


class S3Ledger:
    """A JSON object in S3, written with If-Match / If-None-Match so no record is lost."""

    def __init__(self, bucket: str, key: str, store: ObjectStore) -> None:
        self.bucket, self.key, self.store = bucket, key, store
        self.location = f"s3://{bucket}/{key}"

    def _aws_error(self, exc: AwsError, doing: str) -> LedgerError:
        if isinstance(exc, NotFound):
            remedy = "create the bucket, or correct the ledger location"
        elif exc.aws_code in ("AccessDenied", "AllAccessDisabled"):
            remedy = ("grant s3:GetObject, s3:PutObject and s3:ListBucket on it "
                      "(see iam/apply-policy.json)")
        else:
            remedy = "check the ledger location, the endpoint and the credentials, then retry"
        return LedgerError(f"cannot {doing} the ledger {self.location}: {exc}; {remedy}")

    def _read(self) -> tuple[int, list[LedgerRecord], str | None]:
        try:
            found = self.store.get(self.bucket, self.key)
        except AwsError as exc:
            raise self._aws_error(exc, "read") from exc
        if found is None:
            return VERSION, [], None  # a new ledger
        body, etag = found
        return (*_parse(body, self.location), etag)

    def records(self) -> list[LedgerRecord]:
        return self._read()[1]

    def append(self, records: list[LedgerRecord]) -> None:
        if not records:
            return
        for attempt in range(PUT_ATTEMPTS):
            version, old, etag = self._read()
            new = _merged(old, records)
            if len(new) == len(old) and version == VERSION:
                return  # every record is already there (a rerun)
            try:
                self.store.put(self.bucket, self.key, _dump(new),
                               if_match=etag, if_none_match=etag is None)
                return
            except PreconditionFailed:
                # Another apply wrote between our read and our put: read again. The jitter
                # keeps a crowd of writers from colliding in step.
                time.sleep(random.uniform(0, min(1.0, 0.02 * 2 ** attempt)))
            except AwsError as exc:
                raise self._aws_error(exc, "write") from exc
        raise LedgerError(f"the ledger {self.location} kept changing during "
                          f"{PUT_ATTEMPTS} attempts to append to it; run again")


def open_ledger(location: str | None, base: Path, store: ObjectStore | None = None) -> Ledger:
    """The ledger at ``location`` (``file://`` relative to ``base``, or ``s3://`` through
    ``store``); NoLedger when none is set."""
    if not location:
        return NoLedger()
    if location.startswith("file://"):
        path = Path(location.removeprefix("file://"))
        return FileLedger(path if path.is_absolute() else base / path)
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise LedgerError(f"the ledger location {location} names no object; "
                              f"write it as s3://bucket/key")
        if store is None:
            raise LedgerError(f"the ledger {location} needs an S3 connection to reach it")
        return S3Ledger(bucket, key, store)
    raise LedgerError(f"the ledger location {location} is neither s3://bucket/key "
                      f"nor file://path; write it as one of those")
