"""Hostile input: every file of tests/fixtures/hostile/ gets a clear error (with where it
is) or is rendered harmless, with no traceback and no AWS call. How long each takes (goal:
under a second) is printed by tests/bench/test_bench_hostile.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.aws import Connection
from engine.errors import InvalidManifests
from engine.render import markdown
from engine.render import plan as render_plan
from engine.workflow import ledger_warning, plan_folder

from .conftest import FIXTURES, REGION
from .render.test_markdown import outside_code

CORPUS = sorted((FIXTURES / "hostile").iterdir())
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_corpus_has_at_least_fifty_files() -> None:
    assert len(CORPUS) >= 50


def _folder(tmp_path: Path, name: str, content: bytes) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    root = tmp_path / "rollouts"
    root.mkdir(exist_ok=True)
    (root / name).write_bytes(content)
    return root


def _check(root: Path, calls: list[str]) -> str:
    """Plan the folder; return 'error' or 'harmless' after checking what the user sees."""
    try:
        run = plan_folder(root, Connection(region=REGION, rate=0))
    except InvalidManifests as exc:
        assert calls == [], "no API call may be made with invalid manifests"
        assert exc.problems
        for problem in exc.problems:
            shown = str(problem)
            assert not CONTROL.search(shown), repr(shown)
            assert problem.message and Path(problem.file).name in shown
        return "error"
    warning = ledger_warning(run)
    report = render_plan.Report(run.api_calls(), (warning,) if warning else ())
    text = render_plan.text(run.plan, report)
    assert not CONTROL.search(text), "a control character reached the terminal"
    visible = outside_code(markdown.render(run.plan, report))
    assert "<script" not in visible and "<img" not in visible
    return "harmless"


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_file__clear_error_or_harmless(path: Path, tmp_path: Path, aws: None,
                                               calls: list[str]) -> None:
    _check(_folder(tmp_path, path.name, path.read_bytes()), calls)


def test_ten_megabyte_file__refused_quickly(tmp_path: Path, aws: None, calls: list[str]) -> None:
    assert _check(_folder(tmp_path, "big.yaml", b"a: " + b"x" * 10_000_000), calls) == "error"


def test_document_file_symlink_out_of_the_repository__refused(tmp_path: Path, aws: None,
                                                              calls: list[str]) -> None:
    root = _folder(tmp_path, "job.yaml", b"targets: [thing/a]\ndocumentFile: doc.json\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text('{"secret": true}')
    (root / "doc.json").symlink_to(outside)
    assert _check(root, calls) == "error"


@pytest.mark.parametrize("name", ["escape-sequences-in-document.yaml",
                                  "markdown-breaking-description.yaml",
                                  "markdown-breaking-document.yaml",
                                  "rtl-in-document.yaml"])
def test_these_are_valid_and_rendered_harmless(name: str, tmp_path: Path, aws: None,
                                               calls: list[str]) -> None:
    content = (FIXTURES / "hostile" / name).read_bytes()
    assert _check(_folder(tmp_path, name, content), calls) == "harmless"


