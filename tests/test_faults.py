"""Faults: a share of AWS calls fail (throttling, 500, 503, connection reset, read timeout,
and a CreateJob whose answer is lost after AWS made the job). Apply either succeeds or
exits 1 naming every failed action, and a rerun converges: no duplicate job, no ledger
record lost, nothing canceled that should not be."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from moto.core.models import botocore_stubber

from engine.aws import Connection, IotApi
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.workflow import apply_run, plan_folder

from .conftest import REGION, make_repo

KINDS = ("throttle", "500", "503", "reset", "timeout", "lost-answer")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _response(url: str, status: int, code: str) -> AWSResponse:
    body = f'{{"message": "injected {code}"}}'.encode()
    return AWSResponse(url, status, {"x-amzn-ErrorType": code}, _Raw(body))


class Injector:
    """A before-send hook failing a seeded share of IoT calls with the given kinds."""

    def __init__(self, share: float, kinds: tuple[str, ...], seed: int) -> None:
        self.share, self.kinds, self.rng = share, kinds, random.Random(seed)
        self.injected: list[str] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if self.share == 0 or self.rng.random() >= self.share:
            return None
        kind = self.rng.choice(self.kinds)
        operation = event_name.rsplit(".", 1)[-1]
        if kind == "lost-answer" and operation != "CreateJob":
            return None
        self.injected.append(f"{kind}:{operation}")
        if kind == "throttle":
            return _response(request.url, 400, "ThrottlingException")
        if kind == "500":
            return _response(request.url, 500, "InternalFailure")
        if kind == "503":
            return _response(request.url, 503, "ServiceUnavailableException")
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if kind == "lost-answer":
            botocore_stubber(event_name, request)  # AWS makes the job; the answer is lost
        raise ReadTimeoutError(endpoint_url=request.url)


@pytest.fixture
def injector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Injector]]:
    holder: list[Injector] = []
    original = IotApi.__init__

    def init(self: IotApi, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if holder:
            self.client.meta.events.register("before-send.iot", holder[0])

    monkeypatch.setattr(IotApi, "__init__", init)
    # Retries without waiting, so the suite stays fast; the retry decisions are botocore's.
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount",
                        lambda self, context: 0)
    yield holder


def _folder(tmp_path: Path, count: int) -> Path:
    return make_repo(tmp_path, {f"job-{i:02d}.yaml":
                                f"targets: [thing/dev-{i}]\ndocument: {{n: {i}}}\n"
                                for i in range(count)})


def _apply(root: Path, attempts: int) -> tuple[list[Any], Any]:
    connection = Connection(region=REGION, rate=0, max_attempts=attempts, retry_mode="standard")
    ledger = FileLedger(root.parent / "ledger.json")
    run = plan_folder(root, connection, ledger_override=ledger)
    return apply_run(run), run


@pytest.mark.parametrize("kind", KINDS)
def test_faults__apply_fails_cleanly_then_a_rerun_converges(
        kind: str, tmp_path: Path, aws: None, injector: list[Injector]) -> None:
    root = _folder(tmp_path, 10)
    injector.append(Injector(0.5, (kind,), seed=KINDS.index(kind)))
    failed_names: list[str] = []
    for _ in range(3):  # a few runs under faults: each either applies or names its failures
        try:
            outcomes, _run = _apply(root, attempts=2)
        except Exception as exc:  # the plan's reads may fail too: a clear AWS error
            assert "injected" in str(exc) or "Timeout" in str(exc) or "Connection" in str(exc)
            continue
        for outcome in outcomes:
            if not outcome.ok:
                assert outcome.message, "a failed action must say why"
                failed_names.append(outcome.action.job.name)
    assert injector[0].injected, "the faults must have hit something"
    injector[0].share = 0.0  # the network heals
    outcomes, _run = _apply(root, attempts=2)
    assert all(o.ok for o in outcomes)
    outcomes, run = _apply(root, attempts=2)
    assert outcomes == [] and run.plan.actions == ()
    jobs = moto_jobs.backend().jobs
    assert len(jobs) == 10 and {j.status for j in jobs.values()} == {"IN_PROGRESS"}
    assert {r.job_id for r in FileLedger(root.parent / "ledger.json").records()
            if r.event == "create"} == set(jobs)


def test_faults__with_botocore_retries_a_moderate_share_never_fails_a_run(
        tmp_path: Path, aws: None, injector: list[Injector]) -> None:
    root = _folder(tmp_path, 10)
    injector.append(Injector(0.3, ("throttle", "500", "503", "reset", "timeout"), seed=11))
    outcomes, _run = _apply(root, attempts=10)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]
    assert injector[0].injected, "the faults must have hit something"
    assert len(moto_jobs.backend().jobs) == 10
