"""Load-and-validate speed and memory at 1,000, 5,000 and 10,000 manifests.

Run: ``pytest tests/bench -m bench -s``. Prints, per manifest, the time PyYAML's C loader
alone takes to parse the same files in the same run (the floor), the time ``validate_folder``
takes (read, parse with positions, merge defaults, schema, rules, documents), their ratio
(goal: at most 2x) and the peak memory of a validation (tracemalloc, a run of its own).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from engine.validate import validate_folder

from .generate import make_folder

pytestmark = pytest.mark.bench
ROUNDS = 3


def _floor(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - started


def _ours(root: Path, count: int) -> float:
    started = time.perf_counter()
    result = validate_folder(root)
    elapsed = time.perf_counter() - started
    assert result.ok and len(result.jobs) == count
    return elapsed


@pytest.mark.parametrize("count", [1_000, 5_000, 10_000])
def test_bench__load_and_validate(count: int, tmp_path: Path) -> None:
    root = make_folder(tmp_path / "rollouts", count)
    files = sorted(root.rglob("*.yaml"))
    floor, ours = [], []
    for _ in range(ROUNDS):  # interleaved, best of each: the machine's noise hits both
        gc.collect()
        floor.append(_floor(files))
        gc.collect()
        ours.append(_ours(root, count))
    gc.collect()
    tracemalloc.start()
    validate_folder(root)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best_floor, best_ours = min(floor), min(ours)
    lines = len(files[0].read_text().splitlines())
    print(f"\n[load+validate] {count:,} manifests of {lines} lines, best of {ROUNDS}:"
          f"\n  floor (PyYAML C loader, parse only): {best_floor / count * 1e3:.3f} ms/manifest"
          f"\n  validate_folder:                     {best_ours / count * 1e3:.3f} ms/manifest"
          f"\n  ratio to floor: {best_ours / best_floor:.2f}x (goal <= 2x)"
          f"\n  peak traced memory of one validation: {peak / 2**20:.0f} MiB (goal < 500)")


def test_bench__errors_keep_positions_at_speed(tmp_path: Path) -> None:
    """A folder where 1% of 1,000 manifests are wrong: every error has line and column."""
    root = make_folder(tmp_path / "rollouts", 1_000)
    broken = sorted(root.rglob("*.yaml"))[::100]
    for path in broken:
        path.write_text(path.read_text().replace("thresholdPercentage: 5",
                                                 "thresholdPercentage: 500"))
    started = time.perf_counter()
    result = validate_folder(root)
    elapsed = time.perf_counter() - started
    errors = [p for p in result.problems if p.is_error]
    assert len(errors) == len(broken)
    assert all(p.line == 28 and p.column == 28 for p in errors), errors[:3]
    print(f"\n[errors] {len(errors)} errors in 1,000 manifests, each with file:line:col, "
          f"in {elapsed * 1e3:.0f} ms")
