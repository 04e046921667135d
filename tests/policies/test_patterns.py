"""``matches`` with a literal pattern: rewritten to a pattern compiled once, judged alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.policies import patterns
from engine.policies.engines import RustEngine, cel_engine

from .helpers import JOB, judged, policies_yaml

rust = pytest.mark.skipif(not isinstance(cel_engine(), RustEngine),
                          reason="only cel-rust compiles the pattern at each evaluation")


def _rewritten(text: str) -> tuple[str, dict[str, Any]]:
    functions: dict[str, Any] = {}
    return patterns.rewrite(text, functions, {}), functions


def test_rewrite__literal_pattern__bound_to_a_function() -> None:
    text, functions = _rewritten("job.document.sha256.matches('^[0-9a-f]{64}$')")
    assert text == f"job.document.sha256.{patterns.PREFIX}0()"
    assert list(functions) == [f"{patterns.PREFIX}0"]


def test_rewrite__one_pattern_twice__one_function() -> None:
    text, functions = _rewritten("a.matches(\"x|y\") || b.matches('x|y')")
    assert text == f"a.{patterns.PREFIX}0() || b.{patterns.PREFIX}0()"
    assert len(functions) == 1


@pytest.mark.parametrize("text", [
    "a.matches(r'\\d+')",  # Perl class: Unicode in cel-rust, ASCII in RE2
    "a.matches('a\\\\.b')",  # an escape in a plain string: left to CEL
    "a.matches('(?<=a)b')",  # refused by RE2
    "a.matches(b)",  # a pattern known only at run time
    "matches(a, '^x')",  # the function form
    "a.matches('''^x''')",
])
def test_rewrite__pattern_it_cannot_vouch_for__left_as_written(text: str) -> None:
    assert _rewritten(text) == (text, {})


CASES = [
    ("^[0-9a-f]{64}$", "9f2c" * 16), ("^[0-9a-f]{64}$", "9f2c" * 15 + "9f2C"),
    ("^[0-9]+[.][0-9]+[.][0-9]+$", "2.10.3"), ("^[0-9]+[.][0-9]+[.][0-9]+$", "2.10"),
    ("prod", "fleet-prod-eu"), ("^prod", "fleet-prod-eu"), ("eu$", "fleet-prod-eu\n"),
    ("(?i)^FLEET", "fleet-1"), ("a.c", "a\nc"), ("é+", "café"), ("^$", ""),
    ("[[:alpha:]]+-[0-9]", "abc-1"), ("x{2,3}", "axxb"), ("^(a|b)*c$", "ababc"),
]


@rust
@pytest.mark.parametrize(("pattern", "text"), CASES)
def test_matches__rewritten_and_as_written__same_verdict(pattern: str, text: str) -> None:
    engine = cel_engine()
    assert isinstance(engine, RustEngine)
    expression = f"s.matches('{pattern}')"
    fast = engine.compile(expression)
    plain = engine.module.compile(expression)
    assert patterns.PREFIX in _rewritten(expression)[0]
    context = engine.context({"s": text})
    assert engine.run(fast, context) is engine.run(plain, context)


@rust
def test_matches__receiver_not_a_string__error_says_so(tmp_path: Path) -> None:
    rule = "job.jobExecutionsRolloutConfig.maximumPerMinute.matches('^1')"
    found = judged(tmp_path, {"_policies.yaml": policies_yaml({"id": "num", "rule": rule}),
                              "fw.yaml": JOB})
    (problem,) = found.problems
    assert problem.message.startswith(
        f"policy num: {rule} does not hold (the rule cannot be judged on this job: "
        "no such overload: matches on int)"), problem.message


def test_matches__literal_pattern_in_a_policy__judged(tmp_path: Path) -> None:
    good = "job.document.version.matches('^2[.][0-9]+[.][0-9]+$')"
    bad = "job.document.version.matches('^3[.]')"
    found = judged(tmp_path, {"_policies.yaml": policies_yaml(
        {"id": "good", "rule": good}, {"id": "bad", "rule": bad}), "fw.yaml": JOB})
    assert [p.message.split(":")[0] for p in found.problems] == ["policy bad"]
