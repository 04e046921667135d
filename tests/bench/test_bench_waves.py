"""What a plan of rollouts in waves costs in API calls (DESIGN.md section 8).

Run: ``pytest tests/bench -m bench -s -k waves``. Prints the calls beside the goal: no more
than one DescribeJob per active wave job, and one DescribeAlarms page per 100 alarms.
"""

from __future__ import annotations

import math
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from engine.aws import WRITE_OPERATIONS, Connection
from engine.desired import NoHashes, desire_waves
from engine.ledger import FileLedger
from engine.validate import validate_folder
from engine.workflow import plan_folder

pytestmark = pytest.mark.bench
ACCOUNT, REGION, PROJECT = "123456789012", "eu-west-1", "bench"
ROLLOUTS = 1_000
MANIFEST = """\
document: {{operation: firmware-update, version: 2.{i}.0}}
abortConfig: {{criteriaList: [{{failureType: ALL, action: CANCEL, thresholdPercentage: 5,
  minNumberOfExecutedThings: 20}}]}}
waves:
  - name: canary
    targets: [thinggroup/canary-{i}]
    gate: {{minSucceeded: 20, maxFailedPercent: 2, minExecuted: 10, soakMinutes: 60,
            alarms: [crash-{i}]}}
  - name: ring
    targets: [thinggroup/ring-{i}]
    gate: {{minSucceeded: 500, maxFailedPercent: 1}}
  - name: fleet
    targets: [thinggroup/fleet-{i}]
"""


def test_bench__waves_plan_calls(moto_server: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 rollouts of 3 waves, each with its canary running and an alarm of its own."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset",
                                                  method="POST")).close()
    (tmp_path / ".git").mkdir()
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "_config.yaml").write_text(f"project: {PROJECT}\nregion: {REGION}\n")
    for i in range(ROLLOUTS):
        (root / f"gw-{i:04d}.yaml").write_text(MANIFEST.format(i=i))
    validation = validate_folder(root)
    assert validation.ok
    canaries = [desire_waves(j, project=PROJECT, account=ACCOUNT, region=REGION,
                             commit=None, hashes=NoHashes())[0] for j in validation.jobs]
    clients = {service: boto3.client(service, region_name=REGION, endpoint_url=moto_server,
                                     aws_access_key_id="testing",
                                     aws_secret_access_key="testing")
               for service in ("iot", "cloudwatch")}

    def create(i: int) -> None:
        d = canaries[i]
        clients["iot"].create_job(**d.create_request(d.job_id))
        clients["cloudwatch"].put_metric_alarm(
            AlarmName=f"crash-{i}", MetricName="crashes", Namespace="fleet",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(ROLLOUTS)))
    run = plan_folder(root, Connection(region=REGION, endpoint_url=moto_server, rate=0),
                      ledger_override=FileLedger(tmp_path / "ledger.json"))
    calls = run.api_calls()
    waiting = [w for w in run.plan.waves if w.state == "waiting"]
    print(f"\n[waves] plan of {ROLLOUTS:,} rollouts x 3 waves ({ROLLOUTS:,} canaries "
          f"running, {ROLLOUTS:,} alarms): {sum(calls.values())} calls {dict(calls)}; goal: "
          f"DescribeJob <= {ROLLOUTS:,} (one per active wave job), DescribeAlarms <= "
          f"{math.ceil(ROLLOUTS / 100)} (one per 100 alarms); writes 0")
    assert len(waiting) == ROLLOUTS and run.plan.actions == ()
    assert not set(calls) & WRITE_OPERATIONS
    assert calls["DescribeJob"] <= ROLLOUTS
    assert calls["DescribeAlarms"] <= math.ceil(ROLLOUTS / 100)
