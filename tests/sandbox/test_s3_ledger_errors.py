"""What S3 can answer a ledger, turned into one-line errors at the AWS boundary: refusals
staged with botocore's Stubber, an endpoint on loopback that nobody answers, no
credentials. Nothing here reaches the network."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from engine.aws import AwsError, Connection, ObjectStore, PreconditionFailed
from engine.ledger import PUT_ATTEMPTS, LedgerError, LedgerRecord, S3Ledger, open_ledger

from ..conftest import REGION

LOCATION = "s3://fleet-ledger/rollouts/ledger.json"
RECORD = LedgerRecord("create", "job-1", "fleet", "f" * 64, REGION,
                      "2026-11-28T12:00:00+00:00", "acme-fleet", "123456789012")


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real S3 client whose answers the test stages, and a store built on it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("s3", region_name=REGION)
    with Stubber(client) as stubber:
        yield stubber, ObjectStore(Connection(region=REGION, rate=0), client=client)


def _ledger(store: ObjectStore) -> S3Ledger:
    ledger = open_ledger(LOCATION, Path("."), store)
    assert isinstance(ledger, S3Ledger)
    return ledger


def _one_line(error: pytest.ExceptionInfo[LedgerError]) -> str:
    message = str(error.value)
    assert LOCATION in message and "\n" not in message
    return message


def test_s3_ledger__access_denied__says_which_permissions(stubbed: Any) -> None:
    stubber, store = stubbed
    stubber.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(LedgerError) as error:
        _ledger(store).records()
    message = _one_line(error)
    assert "GetObject failed: AccessDenied" in message and "s3:ListBucket" in message


def test_s3_ledger__put_refused__is_a_ledger_error(stubbed: Any) -> None:
    stubber, store = stubbed
    stubber.add_client_error("get_object", "NoSuchKey", "no such key", 404)
    stubber.add_client_error("put_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(LedgerError) as error:
        _ledger(store).append([RECORD])
    assert _one_line(error).startswith(f"cannot write the ledger {LOCATION}: PutObject failed")


@pytest.mark.parametrize("code", ["PreconditionFailed", "ConditionalRequestConflict"])
def test_object_store__lost_conditional_put__is_precondition_failed(stubbed: Any,
                                                                    code: str) -> None:
    stubber, store = stubbed
    stubber.add_client_error("put_object", code, "At least one condition failed", 412)
    with pytest.raises(PreconditionFailed):
        store.put("fleet-ledger", "k", b"{}", if_none_match=True)
    assert store.calls == {"PutObject": 1}


def test_s3_ledger__always_losing_the_race__gives_up_with_a_ledger_error(
        stubbed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stubber, store = stubbed
    monkeypatch.setattr("engine.ledger.time.sleep", lambda seconds: None)
    for _ in range(PUT_ATTEMPTS):
        stubber.add_client_error("get_object", "NoSuchKey", "no such key", 404)
        stubber.add_client_error("put_object", "PreconditionFailed", "condition failed", 412)
    with pytest.raises(LedgerError) as error:
        _ledger(store).append([RECORD])
    assert "kept changing" in _one_line(error)
    assert store.calls == {"GetObject": PUT_ATTEMPTS, "PutObject": PUT_ATTEMPTS}


def test_object_store__if_match_on_a_deleted_key__is_precondition_failed(stubbed: Any) -> None:
    stubber, store = stubbed
    stubber.add_client_error("put_object", "NoSuchKey", "no such key", 404)
    with pytest.raises(PreconditionFailed):
        store.put("fleet-ledger", "k", b"{}", if_match='"abc"')


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_s3_ledger__endpoint_does_not_answer__is_a_ledger_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    store = ObjectStore(Connection(region=REGION, rate=0, max_attempts=1,
                                   endpoint_url=f"http://127.0.0.1:{_closed_port()}"))
    with pytest.raises(LedgerError) as error:
        _ledger(store).records()
    assert "EndpointConnectionError" in _one_line(error)


def test_s3_ledger__no_credentials__says_how_to_get_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = ObjectStore(Connection(region=REGION, rate=0, max_attempts=1,
                                   endpoint_url=f"http://127.0.0.1:{_closed_port()}"))
    with pytest.raises(LedgerError) as error:
        _ledger(store).records()
    assert "NoCredentialsError" in _one_line(error) and "aws configure" in _one_line(error)


def test_object_store__unknown_profile__is_an_aws_error(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AwsError, match="ProfileNotFound"):
        ObjectStore(Connection(region=REGION, profile="nobody"))
