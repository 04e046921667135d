"""Hostile policies (README "Policies": limits): an expression that would run for minutes,
a 10 MB file, deep nesting, a regular expression built to backtrack. Each is refused or
bounded, with a clear problem, within a second."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.policies.engines import cel_engine
from engine.policies.expressions import MAX_EXPRESSION_CHARS

from .helpers import judged, lines, policies_yaml

SECOND = 1.0


def _timed(tmp_path: Path, files: dict[str, str]) -> tuple[float, list[str], bool]:
    start = time.perf_counter()
    result = judged(tmp_path, files)
    return time.perf_counter() - start, lines(result.problems), result.ok


BIG_LIST_JOB = "targets: [thing/a]\ndocumentFile: doc.json\n"


def _doc(count: int) -> str:
    return json.dumps({"items": list(range(count))})


def test_nested_comprehensions_over_a_big_list__refused_in_a_second(tmp_path: Path) -> None:
    rule = ("job.document.items.all(a, job.document.items.all(b, "
            "job.document.items.all(c, a + b + c >= 0)))")  # 4,000^3 steps: hours
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "slow", "rule": rule}),
        "doc.json": _doc(4_000), "fw.yaml": BIG_LIST_JOB})
    assert took < SECOND, took
    assert not ok
    budget = cel_engine().max_steps
    assert any(f"over the {budget:,} a policy may take" in p for p in problems), problems


def test_nested_comprehensions_over_the_targets__judged(tmp_path: Path) -> None:
    targets = ", ".join(f"thing/t{i}" for i in range(30))
    rule = "job.targets.all(a, job.targets.exists(b, a == b))"  # 30 x 30: cheap
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "pairs", "rule": rule}),
        "fw.yaml": f"targets: [{targets}]\ndocument: {{op: x}}\n"})
    assert ok and not problems, problems
    assert took < SECOND, took


def test_comprehensions_nested_four_deep__config_error(tmp_path: Path) -> None:
    rule = ("[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))")
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "deep", "rule": rule}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert not ok and any("nest more than 3 deep" in p for p in problems), problems
    assert took < SECOND, took


def test_brackets_ten_thousand_deep__config_error_in_a_second(tmp_path: Path) -> None:
    rule = "(" * 10_000 + "true" + ")" * 10_000
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "deep", "rule": rule}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert took < SECOND, took
    assert not ok
    assert any(f"over the {MAX_EXPRESSION_CHARS:,} a policy may have" in p
               for p in problems), problems


def test_brackets_nested_forty_deep__config_error(tmp_path: Path) -> None:
    rule = "(" * 40 + "true" + ")" * 40
    _, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "deep", "rule": rule}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert not ok and any("brackets nest more than 32 deep" in p for p in problems), problems


def test_ten_megabyte_policies_file__refused_in_a_second(tmp_path: Path) -> None:
    policy = "  - id: p{0}\n    rule: \"size(job.targets) > {0}\"\n"
    text = "policies:\n" + "".join(policy.format(i) for i in range(250_000))
    assert len(text) > 10_000_000
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": text, "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert took < SECOND, took
    assert not ok and any("_policies.yaml" in p and "bytes" in p for p in problems), problems


def test_more_policies_than_the_limit__config_error(tmp_path: Path) -> None:
    many = [{"id": f"p{i}", "rule": "true"} for i in range(201)]
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml(*many),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert not ok and any("at most 200" in p for p in problems), problems
    assert took < SECOND, took


def test_deeply_nested_yaml__refused(tmp_path: Path) -> None:
    text = "policies: " + "[" * 1_000 + "]" * 1_000 + "\n"
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": text, "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert took < SECOND, took
    assert not ok and any("nest" in p for p in problems), problems


def test_backtracking_regex_on_a_long_string__bounded(tmp_path: Path) -> None:
    doc = json.dumps({"text": "a" * 30_000 + "!"})
    rule = "!job.document.text.matches('^(a+)+$')"  # linear in RE2-style engines
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "regex", "rule": rule}),
        "doc.json": doc, "fw.yaml": "targets: [thing/a]\ndocumentFile: doc.json\n"})
    assert ok and not problems, problems
    assert took < SECOND, took


# A 30 KB document (under the 32 KiB limit) holding a list of 15,000 small numbers: cel-rust
# copies the field a comprehension's body reads at each step (6-22 s unbounded).
COPIED_DOC = json.dumps({"items": [0] * 15_000, "s": "a"}, separators=(",", ":"))


@pytest.mark.parametrize("rule", [
    "job.document.items.all(a, job.document.s == 'a')",
    "job.document.items.all(a, size(job.document.items) > 0)",
    "job.document.items.map(a, a).size() > 0",  # map copies the list it builds each step
])
def test_comprehension__body_copies_a_big_document__refused_in_a_second(
        tmp_path: Path, rule: str) -> None:
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "slow", "rule": rule}),
        "doc.json": COPIED_DOC, "fw.yaml": BIG_LIST_JOB})
    assert took < SECOND, (took, problems)
    assert not ok
    assert any("policy slow:" in p and "steps, over the" in p for p in problems), problems


def test_map__building_big_strings__refused_in_a_second(tmp_path: Path) -> None:
    # 1,000 steps each joining 45 KB: 7.8 s unbounded (2,500 steps: 51 s and 370 MB).
    doc = json.dumps({"items": [0] * 1_000, "s": "a" * 15_000}, separators=(",", ":"))
    rule = ("job.document.items.map(a, job.document.s + job.document.s + job.document.s)"
            ".size() > 0")
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "big", "rule": rule}),
        "doc.json": doc, "fw.yaml": BIG_LIST_JOB})
    assert took < SECOND, (took, problems)
    assert not ok and any("policy big:" in p and "steps" in p for p in problems), problems


@pytest.mark.parametrize("rule", [
    "job.document.items.all(a, size(job.document.s) == 200)",
    "job.document.items.map(a, job.document.s + job.document.s).size() == 50",
    "job.document.items.filter(a, a == 0).size() == 50",
])
def test_comprehension__body_copies_a_small_document__judged(tmp_path: Path,
                                                             rule: str) -> None:
    doc = json.dumps({"items": [0] * 50, "s": "a" * 200})
    took, problems, ok = _timed(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "fine", "rule": rule}),
        "doc.json": doc, "fw.yaml": BIG_LIST_JOB})
    assert ok and not problems, problems
    assert took < SECOND, took
