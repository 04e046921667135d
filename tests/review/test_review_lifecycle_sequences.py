"""Review (lifecycle): sequences against the reworked reads of AWS (DESIGN.md 3, 5, 10)
that leave the fleet or the ledger other than the contract says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.aws import IotApi
from tests.test_lifecycle_attacks import apply, doc, plan, repo_at


def test_rename__tag_index_lags__second_plan_shows_no_changes(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """remote.reread_tags: "the tagging API lags behind TagResource, so a difference it
    shows is confirmed before the plan acts on it" — done for updates (tags_to_confirm),
    not for renames. fw.yaml renamed to fw2.yaml, applied (TagResource rollouts:name=fw2);
    a plan while GetResources still answers with the old name tag plans the rename again
    (and again after each apply), instead of reading the job's tags one by one and
    showing no changes."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    original = IotApi.tagged_jobs
    snapshot: dict[str, Any] = {}

    def remember(self: IotApi, key: str, value: str) -> dict[str, dict[str, str]]:
        answer = original(self, key, value)
        snapshot["index"] = answer
        return answer

    monkeypatch.setattr(IotApi, "tagged_jobs", remember)
    plan(root)  # the index as it was before the rename
    monkeypatch.setattr(IotApi, "tagged_jobs", lambda self, key, value: snapshot["index"])
    (root / "fw.yaml").rename(root / "fw2.yaml")
    apply(root)
    again = plan(root).plan
    assert again.changes == (), [(a.verb, a.job_id) for a in again.actions]
