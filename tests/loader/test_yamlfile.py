"""Reading one YAML file: YAML 1.2 scalars, positions, and input that must not hurt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.loader.yamlfile import MAX_FILE_BYTES, parse, read


def _one(text: str) -> object:
    documents, problems = parse(text, "f.yaml")
    assert problems == []
    return documents[0].data


@pytest.mark.parametrize("text,value", [
    ("yes", "yes"), ("on", "on"), ("no", "no"), ("2025-01-01", "2025-01-01"),
    ("2027-06-01T22:00", "2027-06-01T22:00"), ("true", True), ("False", False),
    ("~", None), ("null", None), ("12", 12), ("-3", -3), ("0x1f", 31), ("0o17", 15),
    ("1.5", 1.5), ("1e3", 1000.0), ("'12'", "12"), ('"true"', "true"), ("2.4.0", "2.4.0"),
    ("012", 12),
])
def test_scalar__resolves_by_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert _one(f"k: {text}\n") == {"k": value}


def test_position__is_one_based_and_points_at_the_value() -> None:
    documents, _ = parse("a:\n  b:\n    - x\n    - {c: 3}\n", "f.yaml")
    doc = documents[0]
    assert doc.position(("a", "b", 1, "c")) == (4, 11)
    assert doc.position(("a", "b"), at_key=True) == (2, 3)
    assert doc.position(("a", "missing")) == (1, 1)  # deepest existing parent


def test_file_over_the_limit__is_refused_without_reading_it_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (10 * 1024 * 1024) + b"\n")
    sizes: list[int] = []
    original = os.read

    def counted(fd: int, n: int) -> bytes:
        sizes.append(n)
        return original(fd, n)

    monkeypatch.setattr(os, "read", counted)
    documents, problems = read(path, "big.yaml")
    assert documents == [] and f"{MAX_FILE_BYTES:,}" in problems[0].message
    assert sizes and all(0 < n <= MAX_FILE_BYTES + 1 for n in sizes)


def test_nesting_ten_thousand_deep__is_an_error_not_a_crash() -> None:
    documents, problems = parse("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "f.yaml")
    assert documents == [] and "invalid YAML" in problems[0].message
    text = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n"
    documents, problems = parse(text, "f.yaml")
    assert documents == [] and "nested more than" in problems[0].message


def test_byte_order_mark_and_crlf__are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: two\r\n")
    documents, problems = read(path, "w.yaml")
    assert problems == [] and documents[0].data == {"a": 1, "b": "two"}


def test_aliases__within_the_limit_expand_like_plain_values() -> None:
    assert _one("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
