"""Import of 1,000 jobs against a server that allows 10 calls a second per operation.

Run: ``pytest tests/bench -m bench -s -k import``. ``BENCH_IMPORT_JOBS`` sets the count.
Prints the calls made beside the fewest the import needs (ListJobs pages of the two active
statuses, then ListTagsForResource and DescribeJob per job, GetJobDocument per job with a
document of its own), and the time beside the least those reads take at 10 calls a second
for each operation (AWS's limit, and the engine's pacing): the most used operation's calls
/ 10 s, the others overlapping it. Goal: under 2x.
"""

from __future__ import annotations

import math
import os
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from engine.aws import PAGE_SIZE, Connection
from engine.importer import import_jobs
from engine.sandbox import moto_jobs

pytestmark = pytest.mark.bench
REGION, ACCOUNT = "eu-west-1", "123456789012"
ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}:"
RATE = 10.0


def _job(i: int) -> dict[str, object]:
    """A job of one of five kinds: plain, templated, from S3, scheduled, fully configured."""
    job: dict[str, object] = {"jobId": f"legacy-{i:05d}",
                              "targets": [ARN + f"thinggroup/group-{i % 50}", ARN + f"thing/t{i}"]}
    kind = i % 5
    if kind == 1:
        job.update(jobTemplateArn=f"arn:aws:iot:{REGION}::jobtemplate/AWS-Reboot:1.0")
    elif kind == 2:
        job.update(documentSource=f"https://s3.amazonaws.com/docs/job-{i}.json")
    else:
        job.update(document=f'{{"operation": "update", "version": "1.{i}.0", "size": 1e{i % 9}}}')
    if kind == 3:
        job.update(schedulingConfig={"startTime": "2030-01-01T00:00",
                                     "endTime": "2030-01-02T00:00"})
    if kind == 4:
        job.update(description=f"job {i}", tags=[{"Key": "team", "Value": f"t{i % 7}"}],
                   abortConfig={"criteriaList": [{"failureType": "ALL", "action": "CANCEL",
                                                  "thresholdPercentage": 5,
                                                  "minNumberOfExecutedThings": 10}]},
                   jobExecutionsRolloutConfig={"maximumPerMinute": 100},
                   timeoutConfig={"inProgressTimeoutInMinutes": 30})
    return job


def test_bench__import_of_many_jobs__close_to_the_least_reads(
        moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.chdir(tmp_path)
    count = int(os.environ.get("BENCH_IMPORT_JOBS", "1000"))
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset",
                                                  method="POST")).close()
    iot = boto3.client("iot", region_name=REGION, endpoint_url=moto_server)
    jobs = [_job(i) for i in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: iot.create_job(**job), jobs))
    (tmp_path / ".git").mkdir()
    root = tmp_path / "rollouts"
    root.mkdir()
    (root / "_config.yaml").write_text(f"project: bench\nregion: {REGION}\n")

    moto_jobs.throttle(RATE)
    try:
        started = time.perf_counter()
        result = import_jobs(root, Connection(region=REGION, endpoint_url=moto_server,
                                              rate=RATE), all_active=True)
        elapsed = time.perf_counter() - started
        refused = moto_jobs.THROTTLE.refused
    finally:
        moto_jobs.throttle(None)
    assert len(result.written) == count

    scheduled = sum(1 for j in jobs if "schedulingConfig" in j)
    own_document = sum(1 for j in jobs if "document" in j)
    least = {"ListJobs": max(1, math.ceil((count - scheduled) / PAGE_SIZE))
                         + max(1, math.ceil(scheduled / PAGE_SIZE)),
             "ListTagsForResource": count, "DescribeJob": count,
             "GetJobDocument": own_document, "GetCallerIdentity": 1}
    made = {k: v for k, v in result.api_calls.items()}
    least_time = max(calls for op, calls in least.items() if op != "GetCallerIdentity") / RATE
    ratio = elapsed / least_time
    print(f"\n[import] {count:,} jobs in {elapsed:.1f} s; the least reads take {least_time:.1f} s "
          f"at {RATE:g} calls/s per operation: {ratio:.2f}x (goal < 2x)"
          f"\n[import] calls {sum(made.values()):,} {made}; the least "
          f"{sum(least.values()):,} {least}: {sum(made.values()) / sum(least.values()):.2f}x; "
          f"throttled answers {refused}")
    assert made == least
    assert ratio < 2
