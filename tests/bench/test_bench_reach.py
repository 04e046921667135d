"""What the review figures' reach costs in API calls (DESIGN.md section 11).

Run: ``pytest tests/bench -m bench -s -k reach``. A plan of 1,000 new rollouts over 50
thing groups of 200 things: each group is read once, with Fleet Indexing (one GetStatistics
a group) and without it (one refused GetStatistics, then ListThingsInThingGroup pages).
Prints the calls by operation and the time reading reach adds.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from engine.aws import WRITE_OPERATIONS, Connection
from engine.ledger import FileLedger
from engine.workflow import plan_folder

from ..groups import fill_group, index_things

pytestmark = pytest.mark.bench
REGION = "eu-west-1"
ROLLOUTS, GROUPS, SIZE = 1_000, 50, 200
MANIFEST = """\
targets: [thinggroup/ring-{g}, thing/probe-{i}]
document: {{operation: firmware-update, version: 3.{i}.0}}
jobExecutionsRolloutConfig: {{maximumPerMinute: 50}}
abortConfig: {{criteriaList: [{{failureType: ALL, action: CANCEL, thresholdPercentage: 5,
  minNumberOfExecutedThings: 20}}]}}
"""


@pytest.mark.parametrize("indexing", [True, False], ids=["indexing", "listing"])
def test_bench__reach_reads_each_group_once(moto_server: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            indexing: bool) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset",
                                                  method="POST")).close()
    for g in range(GROUPS):
        fill_group(f"ring-{g}", SIZE)
    if indexing:
        index_things()
    (tmp_path / ".git").mkdir()
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "_config.yaml").write_text(f"project: bench\nregion: {REGION}\n")
    for i in range(ROLLOUTS):
        (root / f"fw-{i:04d}.yaml").write_text(MANIFEST.format(i=i, g=i % GROUPS))
    connection = Connection(region=REGION, endpoint_url=moto_server, rate=0)
    timings = {}
    for reach in (False, False, True):  # the first run warms the validation cache
        started = time.perf_counter()
        run = plan_folder(root, connection, reach=reach,
                          ledger_override=FileLedger(tmp_path / "ledger.json"))
        timings[reach] = time.perf_counter() - started
    calls = run.api_calls()
    reach_calls = {op: n for op, n in calls.items()
                   if op in ("GetStatistics", "ListThingsInThingGroup")}
    counts = {r.after.reach.count for r in run.plan.reviews.values()}
    print(f"\n[reach, {'indexing' if indexing else 'listing'}] plan of {ROLLOUTS:,} creates "
          f"over {GROUPS} groups of {SIZE}: {sum(calls.values())} calls {dict(calls)}; "
          f"reach {reach_calls} (goal: each group read once: GetStatistics {GROUPS}"
          f"{'' if indexing else ' refused once, then one listing of 1 page a group'}); "
          f"plan {timings[True]:.2f} s with reach, {timings[False]:.2f} s without (unpaced; "
          f"at AWS's 10 calls a second the reads take {GROUPS / 10:.0f} s more)")
    assert len(run.plan.actions) == ROLLOUTS and counts == {SIZE + 1}
    assert not set(calls) & WRITE_OPERATIONS
    if indexing:
        assert reach_calls == {"GetStatistics": GROUPS}
    else:
        assert reach_calls == {"GetStatistics": 1, "ListThingsInThingGroup": GROUPS}
