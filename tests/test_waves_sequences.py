"""Rollouts in waves over sequences of edits and applies, against a moto server: renames,
reverts, deletes with a ledger, region moves, reruns, hand cancels (found by attacking
the first version of waves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.sandbox import moto_jobs

from .test_lifecycle import envelope
from .test_waves_cli import Fleet, manifest


@pytest.fixture
def fleet(tmp_path: Path, server: str) -> Fleet:
    return Fleet(tmp_path, server)


def show(data: dict[str, Any]) -> None:
    print("CHANGES", [(c["action"], c["jobId"], c.get("replaces")) for c in data["changes"]])
    print("WAVES", [(w["wave"], w["jobId"], w["state"], w["reason"]) for w in data["waves"]])
    print("NOTES", data["notes"], "ORPHANS", [o["jobId"] for o in data["orphans"]])


def plan(fleet: Fleet) -> tuple[int, dict[str, Any]]:
    done = fleet.repo.run("plan", "--detailed-exitcode")
    body = envelope(done)
    assert body["success"] is (done.returncode != 1), body
    data = body.get("data") or {"changes": [], "waves": [], "notes": [], "orphans": [],
                                "error": body.get("error")}
    show(data)
    return done.returncode, data


def active_by_wave(fleet: Fleet) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for job in fleet.aws.jobs().values():
        if job.active:
            key = f"{job.tags.get('rollouts:name')}/{job.tags.get('rollouts:wave')}"
            out.setdefault(key, []).append(job.job_id)
    return out


def start_ring(fleet: Fleet) -> None:
    """Create the canary, let its gate hold, and create the ring."""
    fleet.repo.apply()
    fleet.progress("canary")
    fleet.repo.apply()


def complete(fleet: Fleet, wave: str) -> str:
    job = fleet.wave_job(wave)
    moto_jobs.set_job_progress(job, {"numberOfSucceededThings": 100, "numberOfFailedThings": 0},
                               started_minutes_ago=200)
    moto_jobs.set_job_status(job, "COMPLETED")
    return job


def test_rename_waved_rollout_does_not_restart_canary(fleet: Fleet) -> None:
    fleet.repo.apply()
    fleet.progress("canary")
    fleet.repo.apply()  # ring created
    complete(fleet, "canary")
    assert set(active_by_wave(fleet)) == {"gw/ring"}
    fleet.repo.rename("gw.yaml", "gateway.yaml")
    data = fleet.repo.plan(exit=2)
    show(data)
    fleet.repo.apply()
    act = active_by_wave(fleet)
    print(act)
    # a rename must not roll the canary out again nor leave the old ring running beside it
    assert "gateway/canary" not in act, act
    assert sum(len(v) for v in act.values()) == 1, act


def test_deleted_wave_jobs_with_ledger_not_rerun(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.progress("ring", numberOfSucceededThings=50)
    complete(fleet, "canary")  # at most two waves run at once
    fleet.repo.apply()
    ids = {w: jobs[0] for w, jobs in fleet.wave_jobs().items()}
    assert set(ids) == {"canary", "ring", "all"}
    for job in ids.values():
        moto_jobs.set_job_status(job, "COMPLETED")
    fleet.repo.plan(exit=0)
    iot = fleet.aws.iot()
    for job in ids.values():
        iot.delete_job(jobId=job, force=True)
    code, data = plan(fleet)  # the ledger says it ran: nothing to do
    assert code == 0
    assert not data["changes"]


def test_deleted_last_wave_job_with_ledger_not_rerun(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.progress("ring", numberOfSucceededThings=50)
    complete(fleet, "canary")  # at most two waves run at once
    fleet.repo.apply()
    job = fleet.wave_job("all")
    moto_jobs.set_job_status(job, "COMPLETED")
    fleet.aws.iot().delete_job(jobId=job, force=True)
    code, data = plan(fleet)
    assert code == 0
    assert not data["changes"]


def assert_one_per_wave(fleet: Fleet) -> dict[str, list[str]]:
    act = active_by_wave(fleet)
    print("ACTIVE", act)
    assert all(len(v) == 1 for v in act.values()), act
    return act


def test_revert_rolls_back_reverted_revision(fleet: Fleet) -> None:
    start_ring(fleet)
    complete(fleet, "canary")
    old_ring = fleet.wave_job("ring")
    fleet.repo.write("gw.yaml", manifest("2"))
    fleet.repo.apply()
    assert_one_per_wave(fleet)
    fleet.repo.write("gw.yaml", manifest("1"))
    code, _ = plan(fleet)
    fleet.repo.apply()
    code, _ = plan(fleet)
    fleet.repo.apply()
    done = fleet.repo.run("status")
    print("STATUS", done.stdout[:3000])
    act = assert_one_per_wave(fleet)
    assert list(act) == ["gw/ring"] and act["gw/ring"] != [old_ring]
    code, _ = plan(fleet)
    assert code == 0


def test_mutable_change_on_running_wave_then_plan_clean(fleet: Fleet) -> None:
    start_ring(fleet)
    text = manifest().replace("{name: ring, targets: [thinggroup/ring],",
                              "{name: ring, targets: [thinggroup/ring], "
                              "jobExecutionsRolloutConfig: {maximumPerMinute: 7},")
    fleet.repo.write("gw.yaml", text)
    code, data = plan(fleet)
    assert [c["action"] for c in data["changes"]] == ["update"]
    fleet.repo.apply()
    code, data = plan(fleet)
    assert code == 0
    # rollout-level mutable change: applies to running waves only
    fleet.repo.write("gw.yaml", "description: hello\n" + text)
    code, data = plan(fleet)
    fleet.repo.apply()
    code, data = plan(fleet)
    assert code == 0


def test_hold_halt_then_edit(fleet: Fleet) -> None:
    fleet.repo.write("gw.yaml", manifest() + "onFailure: hold\n")
    fleet.repo.apply()
    fleet.progress("canary", numberOfSucceededThings=8, numberOfFailedThings=4)
    code, _data = plan(fleet)
    fleet.repo.apply()
    assert_one_per_wave(fleet)
    code, _ = plan(fleet)
    assert code == 0
    # switch to cancel: the held job?
    fleet.repo.write("gw.yaml", manifest() + "onFailure: cancel\n")
    code, _ = plan(fleet)
    fleet.repo.apply()
    code, _ = plan(fleet)
    # mutable edit
    fleet.repo.write("gw.yaml", "description: x\n" + manifest() + "onFailure: hold\n")
    code, _ = plan(fleet)
    fleet.repo.apply()
    act = assert_one_per_wave(fleet)
    assert "gw/ring" not in act


def test_hand_cancel_middle_wave(fleet: Fleet) -> None:
    start_ring(fleet)
    complete(fleet, "canary")
    ring = fleet.wave_job("ring")
    fleet.aws.iot().cancel_job(jobId=ring)
    code, _ = plan(fleet)
    fleet.repo.apply()
    code, _ = plan(fleet)
    assert code == 0
    assert "gw/all" not in assert_one_per_wave(fleet)


def test_plain_to_waves_and_back(fleet: Fleet) -> None:
    plain = "targets: [thinggroup/canary]\ndocument: {operation: firmware-update, version: '1'}\n"
    fleet.repo.write("gw.yaml", plain)
    code, _data = plan(fleet)
    fleet.repo.apply()
    fleet.repo.write("gw.yaml", manifest())
    code, _ = plan(fleet)
    fleet.repo.apply()
    assert_one_per_wave(fleet)
    code, _ = plan(fleet)
    assert code == 0
    fleet.repo.write("gw.yaml", plain)
    code, _ = plan(fleet)
    fleet.repo.apply()
    act = assert_one_per_wave(fleet)
    assert list(act) == ["gw/None"], act
    code, _ = plan(fleet)
    assert code == 0


def test_rerun_waved(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.progress("ring", numberOfSucceededThings=50)
    complete(fleet, "canary")  # at most two waves run at once
    fleet.repo.apply()
    for w in ("ring", "all"):  # the canary finished before "all" started
        complete(fleet, w)
    code, _ = plan(fleet)
    assert code == 0
    fleet.repo.write("gw.yaml", manifest() + "rerun: 1\n")
    code, _ = plan(fleet)
    fleet.repo.apply()
    act = assert_one_per_wave(fleet)
    assert list(act) == ["gw/canary"]
    code, _ = plan(fleet)
    assert code == 0


def test_delete_manifest_prune(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.repo.remove("gw.yaml")
    fleet.repo.write("other.yaml", "targets: [thing/x]\ndocument: {a: 1}\n")
    code, _ = plan(fleet)
    fleet.repo.apply("--prune")
    act = active_by_wave(fleet)
    print(act)
    assert list(act) == ["other/None"]
    code, _ = plan(fleet)
    assert code == 0


def three(extra_ring: str = "", names: tuple[str, str, str] = ("canary", "ring", "all"),
          order: tuple[int, ...] = (0, 1, 2), version: str = "1") -> str:
    from .test_waves_cli import GATE
    waves = [f"  - {{name: {names[0]}, targets: [thinggroup/canary], gate: {GATE}}}\n",
             f"  - {{name: {names[1]}, targets: [thinggroup/ring], gate: {{minSucceeded: 50}}"
             f"{extra_ring}}}\n",
             f"  - {{name: {names[2]}, targets: [thinggroup/all]}}\n"]
    return (f"document: {{operation: firmware-update, version: '{version}'}}\nwaves:\n"
            + "".join(waves[i] for i in order) + f"promoted: [{names[0]}]\n")


def test_rename_running_wave(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.repo.write("gw.yaml", three(names=("canary", "ring1", "all")))
    code, _ = plan(fleet)
    fleet.repo.apply()
    assert_one_per_wave(fleet)
    code, _ = plan(fleet)
    assert code == 0


def test_remove_running_wave_and_prune_then_restore(fleet: Fleet) -> None:
    start_ring(fleet)
    complete(fleet, "canary")
    fleet.repo.remove("gw.yaml")
    fleet.repo.write("x.yaml", "targets: [thing/x]\ndocument: {a: 1}\n")
    fleet.repo.apply("--prune")
    assert "gw/ring" not in active_by_wave(fleet)
    fleet.repo.write("gw.yaml", manifest())  # the manifest comes back
    plan(fleet)
    fleet.repo.apply()
    act = assert_one_per_wave(fleet)
    assert "gw/ring" in act, act


def test_region_move_and_back(fleet: Fleet) -> None:
    start_ring(fleet)
    complete(fleet, "canary")
    fleet.repo.write("gw.yaml", "region: us-east-1\n" + manifest())
    plan(fleet)
    fleet.repo.apply("--prune")
    plan(fleet)
    fleet.repo.write("gw.yaml", manifest())
    plan(fleet)
    fleet.repo.apply("--prune")
    plan(fleet)
    act = assert_one_per_wave(fleet)
    assert "gw/ring" in act, act


def test_remove_earlier_done_wave_while_last_runs(fleet: Fleet) -> None:
    start_ring(fleet)
    fleet.progress("ring", numberOfSucceededThings=50)
    complete(fleet, "canary")  # at most two waves run at once
    fleet.repo.apply()
    for w in ("ring",):  # the canary finished before "all" started
        complete(fleet, w)
    # remove ring (done) while all runs
    fleet.repo.write("gw.yaml", three(order=(0, 2)))
    code, _ = plan(fleet)
    fleet.repo.apply()
    code, _ = plan(fleet)
    assert code == 0
    assert_one_per_wave(fleet)
