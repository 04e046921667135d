"""Lifecycle: plans made while the tag index (GetResources) lags behind TagResource
(DESIGN.md 5), and jobs whose tags another project wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.aws import IotApi
from tests.test_lifecycle_attacks import apply, doc, plan, repo_at


def test_revert__tag_index_lags_behind_the_cancel_mark__git_revision_rolled_out_again(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.0 is replaced by 2.0 (marked, canceled with the tool's reasonCode, recorded in the
    ledger); a revert planned while the tag index still shows 1.0 without the mark knows
    the tool canceled it (its reasonCode, the ledger) and rolls 1.0 out again."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    original = IotApi.tagged_jobs
    snapshot: dict[str, Any] = {}

    def remember(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        answer = original(self, key, value)
        snapshot.setdefault("index", answer)
        return answer

    monkeypatch.setattr(IotApi, "tagged_jobs", remember)
    plan(root)  # the index as it was before the replace
    (root / "fw.yaml").write_text(doc("2.0"))
    apply(root)
    monkeypatch.setattr(IotApi, "tagged_jobs", lambda self, key, value: snapshot["index"])
    (root / "fw.yaml").write_text(doc("1.0"))
    run = plan(root)
    assert [a.verb for a in run.plan.actions] == ["replace"], (
        [(a.verb, a.job_id) for a in run.plan.actions], run.plan.notes)
