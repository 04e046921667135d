"""The pure plan of rollouts in waves (DESIGN.md section 8): one wave at a time, each only
once the wave before it passed its gate; a failed gate halts the revision for good."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.actions import Create, Halt, Replace
from engine.desired import DesiredJob
from engine.facts import CANCELED, COMPLETED, TAG_CANCELED_BY, TAG_HALTED, TAG_WAVE
from engine.validate import validate_folder

from .conftest import make_repo
from .factories import desired_jobs as _desired
from .factories import job_of, plan_of

NOW = datetime(2026, 11, 29, 12, 0)
STARTED = NOW - timedelta(minutes=90)
GATE = ("{minSucceeded: 2, maxFailedPercent: 10, minExecuted: 4, soakMinutes: 30, "
        "alarms: [crash], approval: true}")


def _manifest(document: str = "{op: fw, v: 1}", *, promoted: str = "[canary]",
              extra_wave: str = "", ring_targets: str = "[thinggroup/ring]",
              on_failure: str = "cancel") -> str:
    return (f"document: {document}\n"
            "waves:\n"
            f"  - {{name: canary, targets: [thinggroup/canary], gate: {GATE}}}\n"
            f"  - {{name: ring, targets: {ring_targets}, gate: {{minSucceeded: 5}}}}\n"
            "  - {name: all, targets: [thinggroup/all]}\n"
            f"{extra_wave}"
            f"promoted: {promoted}\n"
            f"onFailure: {on_failure}\n")


def _waves(tmp_path: Path, text: str | None = None, name: str = "gw") -> list[DesiredJob]:
    return _desired(tmp_path / name / str(hash(text)), {f"rollouts/{name}.yaml":
                                                       text or _manifest()})


def _running(d: DesiredJob, *, succeeded: int = 0, failed: int = 0,
             status: str = "IN_PROGRESS", tags: dict[str, str] | None = None,
             **more: object):
    return job_of(d, status=status, createdAt=STARTED, tags=tags,
                  jobProcessDetails={"numberOfSucceededThings": succeeded,
                                     "numberOfFailedThings": failed}, **more)


def _states(plan) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(s.desired.wave.name, s.state, s.reason) for s in plan.waves]


def test_waves__each_a_job_of_its_own_with_the_wave_in_id_and_tags(tmp_path: Path) -> None:
    canary, ring, everyone = _waves(tmp_path)
    assert [d.wave.name for d in (canary, ring, everyone)] == ["canary", "ring", "all"]
    assert canary.job_id == f"gw-canary-{canary.spec_hash[:8]}"
    assert canary.tags[TAG_WAVE] == "canary" and canary.name == "gw"
    assert canary.request["targets"] == ["arn:aws:iot:eu-west-1:123456789012:thinggroup/canary"]
    assert len({canary.spec_hash, ring.spec_hash, everyone.spec_hash}) == 3
    assert "waves" not in canary.request and "promoted" not in canary.request


def test_waves__nothing_created__creates_the_first_wave_only(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    plan = plan_of(desired, now=NOW)
    assert [(type(a), a.job_id) for a in plan.actions] == [(Create, desired[0].job_id)]
    assert _states(plan) == [("canary", "new", "apply creates it"),
                             ("ring", "pending", "after canary"),
                             ("all", "pending", "after ring")]


@pytest.mark.parametrize("succeeded,failed,minutes,alarm,promoted,reason", [
    (1, 0, 90, "OK", "[canary]",
     "1 more succeeded needed; 3 more executed before failures are judged"),
    (5, 0, 10, "OK", "[canary]", "soak 20 min left"),
    (5, 0, 90, "OK", "[]", "approval"),
    (5, 0, 90, None, "[canary]", "alarm crash not found in CloudWatch"),
    (2, 0, 90, "OK", "[canary]", "2 more executed before failures are judged"),
], ids=["successes", "soak", "approval", "alarm-missing", "min-executed"])
def test_waves__canary_gate_short__waits_and_creates_nothing(
        tmp_path: Path, succeeded: int, failed: int, minutes: int, alarm: str | None,
        promoted: str, reason: str) -> None:
    desired = _waves(tmp_path, _manifest(promoted=promoted))
    canary = job_of(desired[0], createdAt=NOW - timedelta(minutes=minutes),
                    jobProcessDetails={"numberOfSucceededThings": succeeded,
                                       "numberOfFailedThings": failed})
    plan = plan_of(desired, canary, now=NOW, alarms={} if alarm is None else {"crash": alarm})
    assert plan.actions == ()
    assert plan.unchanged == ("gw",)
    assert _states(plan)[0] == ("canary", "waiting", reason)


def test_waves__canary_gate_passes__creates_ring_and_nothing_else(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    plan = plan_of(desired, _running(desired[0], succeeded=5), now=NOW,
                   alarms={"crash": "OK"})
    assert [(type(a), a.job_id) for a in plan.actions] == [(Create, desired[1].job_id)]
    assert _states(plan) == [("canary", "passed", "apply creates ring"),
                             ("ring", "new", "apply creates it"),
                             ("all", "pending", "after ring")]
    assert [w.as_dict()["action"] for w in plan.waves] == [None, "create", None]
    gate = plan.waves[0].as_dict()["gate"]
    assert gate["state"] == "passed"
    assert gate["condition"]["minSucceeded"] == {"want": ">= 2", "have": "5", "holds": True}


def test_waves__ring_running__canary_done_and_ring_gate_read(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    plan = plan_of(desired, _running(desired[0], succeeded=5, status=COMPLETED),
                   _running(desired[1], succeeded=3), now=NOW, alarms={"crash": "OK"})
    assert plan.actions == ()
    assert _states(plan) == [("canary", "done", "its gate held"),
                             ("ring", "waiting", "2 more succeeded needed"),
                             ("all", "pending", "after ring")]


def test_waves__last_wave_running__runs_with_no_gate(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    jobs = [_running(d, succeeded=9, status=COMPLETED) for d in desired[:2]]
    plan = plan_of(desired, *jobs, _running(desired[2]), now=NOW, alarms={"crash": "OK"})
    assert plan.actions == ()
    assert _states(plan)[2] == ("all", "running", "the last wave")


@pytest.mark.parametrize("on_failure,cancel", [("cancel", True), ("hold", False)])
def test_waves__failed_gate__halts_the_wave_and_cancels_unless_hold(
        tmp_path: Path, on_failure: str, cancel: bool) -> None:
    desired = _waves(tmp_path, _manifest(on_failure=on_failure))
    plan = plan_of(desired, _running(desired[0], succeeded=5, failed=5), now=NOW,
                   alarms={"crash": "OK"})
    (halt,) = plan.actions
    assert isinstance(halt, Halt) and halt.cancel is cancel
    assert halt.reason == "50.0% failed > 10%"
    calls = [op for op, _ in halt.calls()]
    assert calls == (["TagResource", "CancelJob"] if cancel else ["TagResource"])
    marks = {t["Key"]: t["Value"] for t in halt.calls()[0][1]["tags"]}
    assert marks[TAG_HALTED] == "50.0% failed > 10%"
    assert (marks.get(TAG_CANCELED_BY) == "gate:canary") is cancel
    assert _states(plan)[0] == ("canary", "failed", "50.0% failed > 10%")
    assert plan.waves[0].as_dict()["action"] == "halt"


def test_waves__alarm_in_alarm__halts(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    plan = plan_of(desired, _running(desired[0], succeeded=5), now=NOW,
                   alarms={"crash": "ALARM"})
    assert [type(a) for a in plan.actions] == [Halt]
    assert _states(plan)[0] == ("canary", "failed", "alarm crash is ALARM")


def test_waves__halted_once__stays_halted_when_the_numbers_recover(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    halted = _running(desired[0], succeeded=500, failed=5,
                      tags={**desired[0].tags, TAG_HALTED: "50.0% failed > 10%"})
    plan = plan_of(desired, halted, now=NOW, alarms={"crash": "OK"})
    assert plan.actions == ()
    assert _states(plan)[0] == ("canary", "failed", "halted: 50.0% failed > 10%")


def test_waves__canceled_by_its_gate__stays_halted(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    canceled = _running(desired[0], succeeded=5, failed=5, status=CANCELED,
                        tags={**desired[0].tags, TAG_HALTED: "50.0% failed > 10%",
                              TAG_CANCELED_BY: "gate:canary"})
    plan = plan_of(desired, canceled, now=NOW, alarms={"crash": "OK"})
    assert plan.actions == ()
    assert _states(plan)[0][1] == "failed"


def test_waves__document_changed_mid_rollout__restarts_at_the_first_wave(
        tmp_path: Path) -> None:
    old = _waves(tmp_path / "old")
    new = _waves(tmp_path / "new", _manifest("{op: fw, v: 2}"))
    jobs = [_running(old[0], succeeded=5, status=COMPLETED), _running(old[1], succeeded=1)]
    plan = plan_of(new, *jobs, now=NOW, alarms={"crash": "OK"})
    (replace,) = plan.actions
    assert isinstance(replace, Replace)
    assert replace.job_id == new[0].job_id
    assert replace.old_job_ids == (old[1].job_id,)  # the active one; the completed stays
    assert _states(plan)[0] == ("canary", "new", "apply creates it")


def test_waves__a_wave_added_after_the_last__changes_no_earlier_wave(tmp_path: Path) -> None:
    before = _waves(tmp_path / "a")
    after = _waves(tmp_path / "b", _manifest(
        extra_wave="  - {name: late, targets: [thinggroup/late]}\n"))
    assert [d.spec_hash for d in after[:3]] == [d.spec_hash for d in before]
    # ring's targets change: canary stays git's, ring and later are new revisions of theirs
    moved = _waves(tmp_path / "c", _manifest(ring_targets="[thinggroup/ring2]"))
    assert moved[0].spec_hash == before[0].spec_hash
    assert moved[1].spec_hash != before[1].spec_hash
    assert moved[2].spec_hash != before[2].spec_hash


def test_waves__revert_to_a_revision_the_tool_replaced__rolls_out_again_as_a_new_life(
        tmp_path: Path) -> None:
    v1 = _waves(tmp_path / "v1")
    replaced = _running(v1[0], succeeded=1, status=CANCELED,
                        tags={**v1[0].tags, TAG_CANCELED_BY: "replace:x"})
    plan = plan_of(v1, replaced, now=NOW, alarms={"crash": "OK"})
    (create,) = plan.actions
    assert isinstance(create, Create)
    assert create.job_id == f"{v1[0].job_id}-2"


def test_waves__mutable_change__updates_the_running_wave_in_place(tmp_path: Path) -> None:
    desired = _waves(tmp_path, _manifest().replace(
        "targets: [thinggroup/canary]", "targets: [thinggroup/canary], description: now"))
    old = _waves(tmp_path / "old")
    job = _running(desired[0], succeeded=1, tags=dict(desired[0].tags))
    job = job_of(desired[0], createdAt=STARTED, description="before",
                 jobProcessDetails={"numberOfSucceededThings": 1})
    assert old[0].spec_hash == desired[0].spec_hash  # a description is no new revision
    plan = plan_of(desired, job, now=NOW, alarms={"crash": "OK"})
    assert [a.verb for a in plan.actions] == ["update"]
    assert plan.actions[0].fields == {"description": "now"}


@pytest.mark.parametrize("text,message", [
    (_manifest().replace("name: ring", "name: canary"), "wave canary is already waves[0]"),
    (_manifest(promoted="[nope]"), "no wave is named nope"),
    (_manifest() + "targets: [thing/x]\n", "with waves, each wave names its own targets"),
    (_manifest() + "jobId: pinned\n", "a rollout in waves has a job per wave"),
    (_manifest().replace("[thinggroup/all]}", "[thinggroup/all], gate: {approval: true}}"),
     "this is the last one"),
    (_manifest().replace("{minSucceeded: 5}", "{minExecuted: 5}"),
     "minExecuted only says when maxFailedPercent starts to judge"),
    (_manifest().replace("{minSucceeded: 5}", "{}"), "an empty gate"),
    ("document: {op: x}\npromoted: [a]\ntargets: [thing/x]\n", "promoted works only with waves"),
    ("document: {op: x}\n", "missing required key targets"),
    (_manifest().replace("[thinggroup/ring]", "[thinggroup/ring, thinggroup/ring]"),
     "thinggroup/ring is already targets[0]"),
], ids=["unique-names", "promoted-unknown", "targets-and-waves", "jobid", "approval-last",
        "min-executed-alone", "empty-gate", "promoted-without-waves", "no-targets",
        "wave-target-twice"])
def test_waves__bad_manifest__error_at_its_line(tmp_path: Path, text: str,
                                                message: str) -> None:
    root = make_repo(tmp_path, {"rollouts/gw.yaml": text})
    result = validate_folder(root)
    assert not result.ok
    assert any(message in p.message for p in result.problems), \
        [str(p) for p in result.problems]


def test_waves__wave_target_twice__located_at_the_wave(tmp_path: Path) -> None:
    text = _manifest().replace("[thinggroup/ring]", "[thinggroup/ring, thinggroup/ring]")
    root = make_repo(tmp_path, {"rollouts/gw.yaml": text})
    (problem,) = [p for p in validate_folder(root).problems if p.is_error]
    assert (problem.line, problem.path) == (4, "waves[1].targets[1]")


def test_waves__ring_passes_while_canary_still_runs__all_waits(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    plan = plan_of(desired, _running(desired[0], succeeded=5), _running(desired[1],
                                                                      succeeded=9),
                   now=NOW, alarms={"crash": "OK"})
    assert plan.actions == ()
    assert _states(plan)[1] == ("ring", "waiting", "canary still running")


def test_waves__gate_that_can_never_pass__says_so_in_a_note(tmp_path: Path) -> None:
    desired = _waves(tmp_path)
    finished = _running(desired[0], succeeded=1, status=COMPLETED)
    plan = plan_of(desired, finished, now=NOW, alarms={})
    assert _states(plan)[0][1] == "waiting"
    assert any("the gate of wave canary can never pass" in n and "COMPLETED" in n
               for n in plan.notes), plan.notes
    assert any("waits for the CloudWatch alarm crash" in n for n in plan.notes), plan.notes
