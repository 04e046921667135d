"""The fixture folders: every good one validates clean; every bad one gives exactly the
problems its ``expect`` file lists (file:line, field path, a fragment of the message)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from engine.errors import Problem, Severity
from engine.validate import validate_folder

from .conftest import FIXTURES, REPO

NOW = datetime(2026, 11, 28, 12, 0)
BAD = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())
GOOD = sorted(p for p in (FIXTURES / "good").iterdir() if p.is_dir())


def _expectations(folder: Path) -> list[tuple[str, int, str, str]]:
    """Lines of ``FILE:LINE PATH | FRAGMENT``; PATH ``-`` is none; ``warning:`` marks a warning."""
    expected = []
    for line in (folder / "expect").read_text().splitlines():
        if not line.strip():
            continue
        where, fragment = line.split(" | ", 1)
        location, path = where.split(" ", 1)
        file, number = location.rsplit(":", 1)
        expected.append((file, int(number), "" if path == "-" else path, fragment))
    return expected


def _relative(problem: Problem, folder: Path) -> str:
    return Path(problem.file).resolve().relative_to(folder.resolve()).as_posix()


def test_there_are_at_least_forty_bad_cases() -> None:
    assert len(BAD) >= 40


@pytest.mark.parametrize("folder", BAD, ids=[p.name for p in BAD])
def test_bad_fixture__gives_exactly_its_expected_problems(folder: Path) -> None:
    result = validate_folder(folder, now=NOW)
    expected = _expectations(folder)
    got = {(_relative(p, folder), p.line, p.path, p.severity): p for p in result.problems}
    wanted = {}
    for file, line, path, fragment in expected:
        severity = Severity.WARNING if fragment.startswith("warning: ") else Severity.ERROR
        wanted[(file, line, path, severity)] = fragment.removeprefix("warning: ")
    assert set(got) == set(wanted), "\n".join(str(p) for p in result.problems)
    for key, fragment in wanted.items():
        assert fragment in got[key].message, str(got[key])
    assert not result.ok


@pytest.mark.parametrize("folder", GOOD, ids=[p.name for p in GOOD])
def test_good_fixture__validates_without_errors(folder: Path) -> None:
    result = validate_folder(folder, now=NOW)
    assert result.ok, "\n".join(str(p) for p in result.problems)
    assert result.jobs


def test_example_rollouts_folder__validates_clean() -> None:
    result = validate_folder(REPO / "rollouts", now=NOW)
    assert result.ok and not result.problems, "\n".join(str(p) for p in result.problems)
    assert len(result.jobs) >= 6
