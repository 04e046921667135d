"""What 20 policies cost ``validate`` at 1,000 manifests (goal: at most 1.3x without).

Run: ``pytest tests/bench -m bench -s -k policies``. The same generated folder is validated
with and without a ``_policies.yaml`` of 20 policies of every operator family (each one
held by every manifest, so every rule runs; between them they read nearly every field of
the job, the heavy case), interleaved, best of each; the figures, the cost a job, the
ratio and where a job's judgement goes are printed.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

import pytest

from engine.validate import validate_folder

from .generate import make_folder

pytestmark = pytest.mark.bench
ROUNDS = 5
GOAL = 1.3

POLICIES = [
    ("abort", "job.targetSelection == 'SNAPSHOT'",
     "has(job.abortConfig) && job.abortConfig.criteriaList.exists(c, "
     "c.thresholdPercentage <= 10)"),
    ("rate", None, "job.jobExecutionsRolloutConfig.maximumPerMinute <= 500"),
    ("groups", "job.targets.exists(t, t.contains(':thinggroup/'))",
     "job.targets.all(t, t.startsWith('arn:aws:iot:'))"),
    ("one-canary", None, "job.targets.exists_one(t, t.contains(':thing/canary-'))"),
    ("targets", None, "size(job.targets) <= 50"),
    ("team", None, "'team' in job.tags && job.tags.team in ['firmware', 'platform']"),
    ("checksum", "job.document.operation == 'firmware-update'",
     "job.document.sha256.matches('^[0-9a-f]{64}$')"),
    ("version", None, "job.document.version.matches('^[0-9]+[.][0-9]+[.][0-9]+$')"),
    ("reboot", None, "!has(job.document.reboot) || job.document.reboot == true"),
    ("steps", None, "job.document.steps.map(s, size(s)).all(n, n > 0)"),
    ("verify", None, "job.document.steps.filter(s, s == 'verify').size() == 1"),
    ("timeout", None,
     "has(job.timeoutConfig) && job.timeoutConfig.inProgressTimeoutInMinutes <= 120"),
    ("retries", None, "job.jobExecutionsRetryConfig.criteriaList.all(c, "
                      "c.numberOfRetries <= 3)"),
    ("presign", "job.document.url.contains('s3-presigned-url')",
     "has(job.presignedUrlConfig) && job.presignedUrlConfig.expiresInSec <= 3600"),
    ("ramp", None, "job.jobExecutionsRolloutConfig.exponentialRate.incrementFactor * 10.0 "
                   "<= 50.0"),
    ("base-rate", None,
     "job.jobExecutionsRolloutConfig.exponentialRate.baseRatePerMinute * 60 / 2 < 1000"),
    ("described", None, "has(job.description) && job.description.startsWith('Firmware ') "
                        "&& job.description.contains(job.document.version + ' for ')"),
    ("region", None, "rollout.region == 'eu-west-1' && rollout.account == null"),
    ("waves", "size(rollout.waves) > 0", "size(rollout.waves) >= 2"),
    ("ternary", None, "(size(job.targets) > 1 ? 'many' : 'one') != ''"),
]


def policies_yaml() -> str:
    lines = ["policies:"]
    for policy_id, match, rule in POLICIES:
        lines.append(f"  - id: {policy_id}")
        if match:
            lines.append(f"    match: {json.dumps(match)}")
        lines.append(f"    rule: {json.dumps(rule)}")
    return "\n".join(lines) + "\n"


def _validate(root: Path, count: int) -> float:
    gc.collect()
    started = time.perf_counter()
    result = validate_folder(root)
    elapsed = time.perf_counter() - started
    assert result.ok and not result.problems and len(result.jobs) == count, \
        [str(p) for p in result.problems[:3]]
    return elapsed


def test_bench__validate_with_twenty_policies(tmp_path: Path) -> None:
    count = 1_000
    root = make_folder(tmp_path / "rollouts", count)
    (root / "_config.yaml").write_text("project: bench\nregion: eu-west-1\n")
    policies = root / "_policies.yaml"
    text = policies_yaml()
    assert len(POLICIES) == 20
    without, with_ = [], []
    for _ in range(ROUNDS):  # interleaved, best of each: the machine's noise hits both
        if policies.exists():
            policies.unlink()
        without.append(_validate(root, count))
        policies.write_text(text)
        with_.append(_validate(root, count))
    base, ours = min(without), min(with_)
    ratio = ours / base
    middle = sorted(with_)[ROUNDS // 2] / sorted(without)[ROUNDS // 2]
    print(f"\n[policies] validate of {count:,} manifests, best of {ROUNDS}:"
          f"\n  without policies:  {base / count * 1e3:.3f} ms/manifest ({base:.2f} s)"
          f"\n  with 20 policies:  {ours / count * 1e3:.3f} ms/manifest ({ours:.2f} s)"
          f"\n  policies' cost:    {(ours - base) / count * 1e6:.0f} µs/manifest, "
          f"{(ours - base) / count / len(POLICIES) * 1e6:.1f} µs a policy"
          f"\n  ratio:             {ratio:.2f}x (goal: at most {GOAL}x)"
          f" {'met' if ratio <= GOAL else 'NOT MET'}; of the medians: {middle:.2f}x")
    print("  where it goes, on the first job (µs):")
    for what, cost in _parts(root):
        print(f"    {what:<34} {cost:7.1f}")


def _parts(root: Path) -> list[tuple[str, float]]:
    """Where a job's judgement goes, as ``PolicyBook.judge`` does it on the first job."""
    from engine.loader.tree import load_tree
    from engine.policies import book_for
    from engine.policies.expressions import Reach
    from engine.policies.judge import _failure, _pruned
    from engine.schema.models import Config

    tree = load_tree(root)
    book = book_for(tree, Config(project="bench", region="eu-west-1"), [])
    assert book is not None
    job = validate_folder(root).jobs[0]
    ((_, _, request, rollout),) = book._cases(job)
    variables = _pruned({"job": request, "rollout": rollout}, book.reads)
    context = book.engine.context(variables)
    rounds = 500

    def timed(action: object) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            action()  # type: ignore[operator]
        return (time.perf_counter() - started) / rounds * 1e6

    parts = [("the request, as policies see it", timed(lambda: book._cases(job))),
             ("only the paths policies read", timed(
                 lambda: _pruned({"job": request, "rollout": rollout}, book.reads))),
             ("those -> CEL values (Context)", timed(lambda: book.engine.context(variables))),
             ("step estimate (comprehensions)", timed(
                 lambda: book._reach(variables, len(job.document or ""))))]
    for policy in book.policies:
        parts.append((f"policy {policy.id}", timed(
            lambda p=policy: _failure(book.engine, p, context, Reach(3, 0, 0), {}))))
    return parts
