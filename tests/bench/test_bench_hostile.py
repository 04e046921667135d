"""How long each hostile file takes to be refused or accepted (goal: under a second each).

Run: ``pytest tests/bench -m bench -s``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.validate import validate_folder

pytestmark = pytest.mark.bench
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"


def test_bench__hostile_corpus_time_per_file(tmp_path: Path) -> None:
    cases = {p.name: p.read_bytes() for p in sorted(CORPUS.iterdir())}
    cases["generated-10mb.yaml"] = b"a: " + b"x" * 10_000_000
    timings = []
    for index, (name, content) in enumerate(cases.items()):
        root = tmp_path / f"case-{index}"
        root.mkdir()
        (root / name).write_bytes(content)
        started = time.perf_counter()
        validate_folder(root)
        timings.append((time.perf_counter() - started, name))
    timings.sort(reverse=True)
    slowest = ", ".join(f"{name} {seconds * 1e3:.0f} ms" for seconds, name in timings[:3])
    print(f"\n[hostile] {len(timings)} files; slowest: {slowest}; "
          f"all under a second: {timings[0][0] < 1.0} (goal: yes)")
