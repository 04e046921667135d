"""``_defaults.yaml`` through the CLI: a manifest's null drops a default, and a change that
comes from a defaults file names that file in the plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .conftest import make_repo
from .test_cli import rollouts

DEFAULTS = "rollouts/firmware/_defaults.yaml"


def _plan_json(work: Path) -> dict[str, Any]:
    done = rollouts("plan", "--sandbox", "-o", "json", cwd=work)
    body = json.loads(done.stdout)
    assert body["success"], body
    data: dict[str, Any] = body["data"]
    return data


def test_plan__null_in_manifest__drops_the_default_tags_included(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "fw/_defaults.yaml": "tags: {team: fw, owner: bob}\n"
                             "timeoutConfig: {inProgressTimeoutInMinutes: 60}\n",
        "fw/a.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"
                     "tags: {team: null}\ntimeoutConfig: null\n",
        "b.yaml": "targets: [thing/dev-1]\ndocument: {op: y}\ntags: {team: null, on: call}\n"})
    changes = {c["name"]: c["request"] for c in _plan_json(tmp_path)["changes"]}
    user = {n: {t["Key"]: t["Value"] for t in r["tags"] if not t["Key"].startswith("rollouts:")}
            for n, r in changes.items()}
    assert user == {"a": {"owner": "bob"}, "b": {"on": "call"}}
    assert "timeoutConfig" not in changes["a"]


def test_plan__change_from_defaults__names_the_file_in_json_text_and_markdown(
        tmp_path: Path) -> None:
    from .conftest import REPO

    work = tmp_path / "repo"
    shutil.copytree(REPO / "rollouts", work / "rollouts")
    (work / ".git").mkdir()
    assert rollouts("apply", "--sandbox", "--auto-approve", cwd=work).returncode == 0
    defaults = work / DEFAULTS
    defaults.write_text(defaults.read_text().replace("thresholdPercentage: 10\n",
                                                     "thresholdPercentage: 5\n"))
    gateway = work / "rollouts" / "firmware" / "gateway-fw-2-4-0.yaml"
    gateway.write_text(gateway.read_text().replace("  firmware: 2.4.0", "  firmware: 2.4.1"))
    for _ in range(2):  # the second plan reads the jobs from the validation cache
        changes = {c["name"]: c for c in _plan_json(work)["changes"]}
        sensor = changes["sensor-fw-1-9-2"]["diff"]
        assert sensor == [{"path": "abortConfig.criteriaList[1].thresholdPercentage",
                           "before": 10, "after": 5, "from": DEFAULTS}]
        own = [d for d in changes["gateway-fw-2-4-0"]["diff"] if d["path"] == "tags.firmware"]
        assert own and "from" not in own[0], changes["gateway-fw-2-4-0"]["diff"]
    text = rollouts("plan", "--sandbox", cwd=work).stdout
    assert (f"abortConfig.criteriaList[1].thresholdPercentage: 10 -> 5  (from {DEFAULTS})"
            in text), text
    assert 'tags.firmware: "2.4.0" -> "2.4.1"\n' in text, text
    markdown = rollouts("plan", "--sandbox", "-o", "markdown", cwd=work).stdout
    assert f"10 -> 5  (from {DEFAULTS})" in markdown
