"""Apply throughput across places: each (account, region) has its own AWS rate limits, so
creates in two regions should run at close to twice one region's rate.

Run: ``pytest tests/bench -m bench -s -k places``. 150 creates in one region, then 150 in
each of two regions, against a server that refuses more than 10 calls a second per
operation in each account and region, the client paced at its default 10 a second per
operation and place. Goal: two regions at least 1.6x one region's rate, none failed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.aws import Connection
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.workflow import apply_run, plan_folder

from ..conftest import reset_moto

pytestmark = pytest.mark.bench
REGIONS = ("eu-west-1", "us-east-1")
EACH = 150
LIMIT = 10.0


def _repo(base: Path, regions: tuple[str, ...]) -> Path:
    (base / ".git").mkdir(parents=True)
    root = base / "rollouts"
    root.mkdir()
    (root / "_config.yaml").write_text(f"project: bench\nregion: {regions[0]}\n")
    for region in regions:
        for i in range(EACH):
            (root / f"{region}-{i}.yaml").write_text(
                f"targets: [thing/dev-{i}]\ndocument: {{v: {i}}}\nregion: {region}\n")
    return root


def _rate(server: str, base: Path, regions: tuple[str, ...]) -> float:
    reset_moto(server)
    root = _repo(base, regions)
    run = plan_folder(root, Connection(region=regions[0], endpoint_url=server),
                      ledger_override=FileLedger(base / "ledger.json"))
    moto_jobs.throttle(LIMIT)
    try:
        started = time.perf_counter()
        outcomes = apply_run(run)
        elapsed = time.perf_counter() - started
        refused = moto_jobs.THROTTLE.refused
    finally:
        moto_jobs.throttle(None)
    failed = [o for o in outcomes if not o.ok]
    rate = len(outcomes) / elapsed
    print(f"\n[apply across places, {len(regions)} region(s)] {len(outcomes)} creates in "
          f"{elapsed:.1f} s: {rate:.2f} creates/s ({rate / len(regions) / LIMIT:.0%} of each "
          f"region's {LIMIT:g}/s); throttled answers {refused}, failed {len(failed)}")
    assert len(outcomes) == EACH * len(regions) and not failed
    return rate


def test_bench__apply_throughput__places_add_up(moto_server: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    one = _rate(moto_server, tmp_path / "one", REGIONS[:1])
    two = _rate(moto_server, tmp_path / "two", REGIONS)
    print(f"\n[apply across places] two regions {two:.2f} creates/s vs one {one:.2f}: "
          f"{two / one:.2f}x (goal >= 1.6x)")
    assert two / one >= 1.6
