"""The README's revert walk-through in the sandbox: a revision the tool replaced, reverted
to, rolls out again as a new life (the sandbox keeps who canceled each job)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import make_repo
from ..conftest import sandbox_json as _run

V1 = "targets: [thinggroup/gw]\ndocument: {operation: firmware-update, version: '1'}\n"
V2 = V1.replace("'1'", "'2'")



def test_sandbox_revert__the_replaced_revision_rolls_out_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path, {"gw.yaml": V1})
    monkeypatch.chdir(tmp_path)
    (first,) = _run("apply", "--auto-approve")["changes"]
    (root / "gw.yaml").write_text(V2)
    (second,) = _run("apply", "--auto-approve")["changes"]
    assert second["action"] == "replace" and second["replaces"] == [first["jobId"]]
    (root / "gw.yaml").write_text(V1)  # git revert
    (again,) = _run("plan")["changes"]
    assert again["action"] == "replace"
    assert again["jobId"] == f"{first['jobId']}-2" and again["replaces"] == [second["jobId"]]
