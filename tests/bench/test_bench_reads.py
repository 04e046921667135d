"""What a plan reads as an account's job history grows (DESIGN.md 5).

Run: ``pytest tests/bench -m bench -s -k reads``. 600 manifests whose 600 jobs AWS holds (60
running, 540 completed), in an account of 3,000 jobs and in one of 100,000 (the others
other teams' finished jobs, 30 of them running in both). The first plan reads how the
finished jobs ended and an apply records it in the ledger; the plan after it is the one a
team sees every day. Goal: the larger account costs at most 1.25x the smaller, 0 writes.
The first version listed every job: 79 calls at 3,000 jobs, 470 at 100,600.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from moto.iot.models import FakeJob

from engine.aws import WRITE_OPERATIONS, Connection
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.workflow import PlanRun, apply_run, plan_folder, record_reads

from ..conftest import reset_moto
from .generate import make_folder

pytestmark = pytest.mark.bench
ACCOUNT, REGION, PROJECT = "123456789012", "eu-west-1", "bench"
MANIFESTS, RUNNING, OTHERS_RUNNING = 600, 60, 30


def _history(total: int) -> None:
    """Other teams' jobs, put straight into the simulated account (100,000 CreateJob calls
    would take longer than the plan they slow down): finished, but for a few running."""
    backend = moto_jobs.backend(ACCOUNT, REGION)
    for i in range(total):
        job = FakeJob(f"history-{i}", [f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/t{i % 500}"],
                      None, "{}", "", {}, "SNAPSHOT", {}, {}, {}, {}, {}, {},  # type: ignore[arg-type]
                      ACCOUNT, REGION)
        job.status = "IN_PROGRESS" if i < OTHERS_RUNNING else "COMPLETED"
        backend.jobs[job.job_id] = job


def _plan(root: Path, server: str, ledger: FileLedger) -> PlanRun:
    return plan_folder(root, Connection(region=REGION, endpoint_url=server, rate=0),
                       ledger_override=ledger)


def _account(server: str, base: Path, jobs: int) -> Callable[[], PlanRun]:
    """A repository of 600 manifests applied in an account of ``jobs`` jobs; returns its
    plan, ready to run again."""
    reset_moto(server)
    (base / ".git").mkdir(parents=True)
    root = make_folder(base / "rollouts", MANIFESTS)
    (root / "_config.yaml").write_text(f"project: {PROJECT}\nregion: {REGION}\n")
    ledger = FileLedger(base / "ledger.json")
    outcomes = apply_run(_plan(root, server, ledger))
    assert len(outcomes) == MANIFESTS and all(o.ok for o in outcomes)
    for index, outcome in enumerate(outcomes):
        if index % (MANIFESTS // RUNNING):
            moto_jobs.set_job_status(outcome.action.job_id, "COMPLETED")  # type: ignore[union-attr]
    _history(jobs - MANIFESTS)
    assert len(moto_jobs.backend(ACCOUNT, REGION).jobs) == jobs
    return lambda: _plan(root, server, ledger)


def test_bench__plan_reads__3000_vs_100000_jobs(moto_server: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    totals = {}
    for jobs in (3_000, 100_000):
        plan = _account(moto_server, tmp_path / str(jobs), jobs)
        first = plan()
        assert first.plan.actions == ()
        record_reads(first)  # as the apply after it does
        daily = plan()
        assert daily.plan.actions == ()
        for label, run in (("first plan", first), ("every plan after", daily)):
            calls = run.api_calls()
            assert not set(calls) & WRITE_OPERATIONS
            print(f"\n[plan reads, {jobs:,} jobs in the account, {label}] 600 manifests "
                  f"({RUNNING} running): {sum(calls.values())} calls {calls}; writes 0")
        totals[jobs] = sum(daily.api_calls().values())
    ratio = totals[100_000] / totals[3_000]
    print(f"\n[plan reads] 100,000 jobs vs 3,000: {totals[100_000]} vs {totals[3_000]} calls, "
          f"{ratio:.2f}x (goal <= 1.25x; the first version: 470 vs 79, 5.9x)")
    assert ratio <= 1.25
