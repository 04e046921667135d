"""Review figures through the CLI as a subprocess against a moto server (DESIGN.md section
11): reach read once a group, the figures in text, markdown and JSON, --no-reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import make_repo
from .groups import fill_group, index_things
from .test_cli_aws import rollouts

FW = """\
targets: [thinggroup/fleet, thing/dev-1]
document: {operation: firmware-update, version: 2.0.0}
jobExecutionsRolloutConfig: {maximumPerMinute: 150}
abortConfig:
  criteriaList:
    - {failureType: FAILED, action: CANCEL, thresholdPercentage: 5, minNumberOfExecutedThings: 10}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, {"fw.yaml": FW})


def plan_json(repo: Path, server: str, *extra: str) -> dict[str, Any]:
    done = rollouts("plan", "-o", "json", *extra, cwd=repo.parent, server=server)
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, Any] = json.loads(done.stdout)["data"]
    return data


def test_plan__group_of_300_and_a_thing__reaches_301(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    index_things()
    data = plan_json(repo, server)
    (change,) = data["changes"]
    assert change["review"] == {
        "reach": {"count": 301, "exact": True, "source": "indexing", "continuous": False},
        "minutesToNotifyAll": 2.0, "notifiedBeforeEnd": None,
        "abort": [{"failureType": "FAILED", "afterFailures": 16, "ofExecuted": 301}],
        "inProgressTimeoutInMinutes": None}
    assert data["apiCalls"]["GetStatistics"] == 1
    assert "ListThingsInThingGroup" not in data["apiCalls"]
    text = rollouts("plan", cwd=repo.parent, server=server).stdout
    assert "reaches 301 devices in about 2 min; aborts after 16 failures" in text


def test_plan__markdown__reach_time_and_abort_columns(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    index_things()
    done = rollouts("plan", "-o", "markdown", cwd=repo.parent, server=server)
    assert done.returncode == 0, done.stderr
    assert "| manifest | reach | time | aborts after |" in done.stdout
    assert "| rollouts/fw.yaml | 301 devices | 2 min | 16 failures |" in done.stdout


def test_plan__indexing_off__listed_instead_and_a_note_says_so(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    data = plan_json(repo, server)
    (change,) = data["changes"]
    assert change["review"]["reach"] == {"count": 301, "exact": True, "source": "listing",
                                         "continuous": False}
    assert any("Fleet Indexing did not answer (ResourceNotFoundException)" in n
               for n in data["notes"])
    assert data["apiCalls"]["GetStatistics"] == 1
    assert data["apiCalls"]["ListThingsInThingGroup"] == 2


def test_plan__group_larger_than_the_cap__at_least(server: str, repo: Path) -> None:
    fill_group("fleet", 10_001)
    data = plan_json(repo, server)
    reach = data["changes"][0]["review"]["reach"]
    assert reach == {"count": 10_001, "exact": False, "source": "listing",
                     "continuous": False}
    assert data["apiCalls"]["ListThingsInThingGroup"] == 40  # 250 a page, up to 10,000
    text = rollouts("plan", cwd=repo.parent, server=server).stdout
    assert "reaches at least 10,001 devices" in text


def test_plan__no_reach__no_reach_call_and_reach_not_read(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    index_things()
    data = plan_json(repo, server, "--no-reach")
    assert not {"GetStatistics", "ListThingsInThingGroup"} & set(data["apiCalls"])
    assert data["changes"][0]["review"]["reach"]["source"] == "not read"
    text = rollouts("plan", "--no-reach", cwd=repo.parent, server=server).stdout
    assert "reach not read" in text
    dry = rollouts("apply", "--dry-run", "--no-reach", "-o", "json", cwd=repo.parent,
                   server=server)
    calls = json.loads(dry.stdout)["data"]["apiCalls"]
    assert not {"GetStatistics", "ListThingsInThingGroup"} & set(calls)


def test_saved_plan__group_grows_before_apply__not_stale(server: str, repo: Path,
                                                          tmp_path: Path) -> None:
    fill_group("fleet", 300)
    index_things()
    saved = tmp_path / "plan.json"
    made = rollouts("plan", "--out", str(saved), cwd=repo.parent, server=server)
    assert made.returncode == 0, made.stderr
    assert "review" not in saved.read_text()  # the figures are shown, not saved
    from moto.iot.models import iot_backends

    from .conftest import ACCOUNT, REGION

    backend = iot_backends[ACCOUNT][REGION]
    group = next(g for g in backend.thing_groups.values() if g.thing_group_name == "fleet")
    late = backend.create_thing("late-joiner", None, None)  # type: ignore[arg-type]
    group.things[late.arn] = late
    done = rollouts("apply", str(saved), "-o", "json", cwd=repo.parent, server=server)
    assert done.returncode == 0, done.stdout + done.stderr
    (change,) = json.loads(done.stdout)["data"]["changes"]
    assert change["outcome"]["ok"] and change["review"]["reach"]["count"] == 302


def test_apply_then_rate_edited__update_shows_before_and_after(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    index_things()
    done = rollouts("apply", "--auto-approve", cwd=repo.parent, server=server)
    assert done.returncode == 0, done.stdout + done.stderr
    (repo / "fw.yaml").write_text(FW.replace("maximumPerMinute: 150",
                                             "maximumPerMinute: 10"))
    data = plan_json(repo, server)
    (change,) = data["changes"]
    assert change["action"] == "update"
    review = change["review"]
    assert review["before"]["minutesToNotifyAll"] == 2.0
    assert review["after"]["minutesToNotifyAll"] == 30.1
    markdown = rollouts("plan", "-o", "markdown", cwd=repo.parent, server=server).stdout
    assert "| 301 devices | 2 min -&gt; 30 min | 16 failures |" in markdown
    text = rollouts("plan", cwd=repo.parent, server=server).stdout
    assert "reaches 301 devices in about 2 min -> about 30 min; aborts after 16" in text


def test_plan__dynamic_group_and_continuous__members_now_and_joiners(server: str,
                                                                      repo: Path) -> None:
    import boto3

    fill_group("fleet", 12)
    index_things()
    iot = boto3.client("iot", endpoint_url=server, region_name="eu-west-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iot.create_dynamic_thing_group(thingGroupName="late",
                                   queryString="thingName:fleet-t00001 OR thingName:fleet-t00002")
    (repo / "fw.yaml").write_text("targets: [thinggroup/late]\ndocument: {op: x}\n"
                                  "targetSelection: CONTINUOUS\n")
    data = plan_json(repo, server)
    reach = data["changes"][0]["review"]["reach"]
    assert (reach["count"], reach["continuous"]) == (2, True)
    text = rollouts("plan", cwd=repo.parent, server=server).stdout
    assert "reaches 2 devices now in under a minute, and every thing that joins later" in text


WAVED = """\
document: {op: fw}
waves:
  - name: canary
    targets: [thinggroup/canary]
    jobExecutionsRolloutConfig: {maximumPerMinute: 10}
  - name: all
    targets: [thinggroup/fleet]
"""


def test_plan__waves__each_wave_carries_its_figures(server: str, repo: Path) -> None:
    fill_group("fleet", 300)
    fill_group("canary", 20)
    index_things()
    (repo / "fw.yaml").write_text(WAVED)
    data = plan_json(repo, server)
    counts = [w["review"]["reach"]["count"] for w in data["waves"]]
    assert counts == [20, 300]
    assert data["changes"][0]["review"]["reach"]["count"] == 20
    assert data["apiCalls"]["GetStatistics"] == 2  # each group once, for change and wave


def test_sandbox__groups_hold_40_devices__plan_shows_their_figures(repo: Path) -> None:
    done = rollouts("plan", "--sandbox", "-o", "json", cwd=repo.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)["data"]
    reach = data["changes"][0]["review"]["reach"]
    assert (reach["count"], reach["exact"], reach["source"]) == (41, True, "indexing")
    assert not [n for n in data["notes"] if n.startswith("reach")]


def test_sandbox_serve__groups_hold_40_devices__plan_through_endpoint(tmp_path: Path) -> None:
    from .sandbox.test_serve import Served
    from .sandbox.test_serve import rollouts as through

    served = Served()
    try:
        (tmp_path / "repo").mkdir()
        root = make_repo(tmp_path / "repo", {"fw.yaml": FW})
        done = through("plan", "-o", "json", cwd=root.parent, url=served.url)
        assert done.returncode == 0, done.stdout + done.stderr
        reach = json.loads(done.stdout)["data"]["changes"][0]["review"]["reach"]
        assert (reach["count"], reach["source"]) == (41, "indexing")
    finally:
        served.stop()
