"""Hypothesis: over random sequences of device progress, alarm changes, time and applies, a
wave is created only once the gate before it holds, in order, and never twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.actions import Create, Halt, Replace
from engine.desired import DesiredJob
from engine.facts import CANCELED, COMPLETED, IN_PROGRESS, TAG_CANCELED_BY, TAG_HALTED
from engine.gates import read_gate
from engine.remote import RemoteJob
from engine.waves import progress

from .factories import desired_jobs, job_of, plan_of

START = datetime(2026, 11, 29, 8, 0)
DEVICES = 20
TEXT = ("document: {op: fw}\n"
        "waves:\n"
        "  - {name: canary, targets: [thinggroup/c], gate: {minSucceeded: 5, "
        "maxFailedPercent: 20, minExecuted: 5, soakMinutes: 30, alarms: [crash]}}\n"
        "  - {name: ring, targets: [thinggroup/r], gate: {minSucceeded: 10}}\n"
        "  - {name: all, targets: [thinggroup/a]}\n")

# Each step: devices of one wave (mostly the newest, -1) finish (succeeded, failed), time
# passes, the alarm is in a state (mostly OK), and maybe an apply runs.
steps = st.lists(st.tuples(st.sampled_from([-1, -1, 0, 1]), st.integers(0, 10),
                           st.integers(0, 2),
                           st.integers(0, 40), st.sampled_from(["OK"] * 5 + ["ALARM"]),
                           st.booleans()),
                 min_size=1, max_size=30)


class World:
    """AWS's jobs of the rollout, moved by devices, CloudWatch and applies."""

    def __init__(self, desired: list[DesiredJob]) -> None:
        self.desired = {d.job_id: d for d in desired}
        self.jobs: dict[str, RemoteJob] = {}
        self.alarm = "OK"
        self.now = START

    def devices(self, wave: int, succeeded: int, failed: int) -> None:
        if wave < 0 and self.jobs:
            wave = max(self.desired[j].wave.index for j in self.jobs)  # type: ignore[union-attr]
        ids = [j for j in self.jobs if self.desired[j].wave.index == wave]  # type: ignore[union-attr]
        if not ids or self.jobs[ids[-1]].status != IN_PROGRESS:
            return
        job = self.jobs[ids[-1]]
        counts = dict(job.detail["jobProcessDetails"])  # type: ignore[index]
        queued = counts["numberOfQueuedThings"]
        succeeded, failed = min(succeeded, queued), min(failed, queued - min(succeeded, queued))
        counts["numberOfSucceededThings"] += succeeded
        counts["numberOfFailedThings"] += failed
        counts["numberOfQueuedThings"] = queued - succeeded - failed
        status = COMPLETED if counts["numberOfQueuedThings"] == 0 else IN_PROGRESS
        self.jobs[job.job_id] = replace(job, status=status,
                                        detail={**job.detail, "jobProcessDetails": counts})  # type: ignore[dict-item]

    def apply(self) -> None:
        plan = plan_of(list(self.desired.values()), *self.jobs.values(), now=self.now,
                       alarms={"crash": self.alarm})
        for action in plan.actions:
            if isinstance(action, Create | Replace):
                self.create(action.job)
            elif isinstance(action, Halt):
                job = self.jobs[action.job_id]
                tags = {**(job.tags or {}), TAG_HALTED: action.reason}
                if action.cancel:
                    tags[TAG_CANCELED_BY] = action.cancel_reason
                self.jobs[job.job_id] = replace(job, tags=tags, status=CANCELED
                                                if action.cancel else job.status,
                                                detail={**(job.detail or {}),
                                                        "reasonCode": "ROLLOUTS"})
            else:
                raise AssertionError(f"unexpected {action.verb}")

    def create(self, d: DesiredJob) -> None:
        assert d.wave is not None
        assert d.job_id not in self.jobs, "a wave created twice"
        if d.wave.index > 0:  # the gate before it holds, now
            before = [j for j in self.jobs.values()
                      if self.desired[j.job_id].wave.index == d.wave.index - 1]  # type: ignore[union-attr]
            assert before, "a wave created before the one ahead of it"
            gate = self.desired[before[-1].job_id].wave.gate  # type: ignore[union-attr]
            reading = read_gate(gate, progress(before[-1]), {"crash": self.alarm},
                                promoted=True, now=self.now)
            assert reading.state == "passed", reading
        self.jobs[d.job_id] = job_of(
            d, createdAt=self.now, jobProcessDetails={
                "numberOfSucceededThings": 0, "numberOfFailedThings": 0,
                "numberOfQueuedThings": DEVICES})

    def check(self) -> None:
        waves = [self.desired[j].wave.index for j, job in self.jobs.items()  # type: ignore[union-attr]
                 if job.active]
        assert len(waves) == len(set(waves)), "two active jobs of one wave"
        assert len(waves) <= 2, "more waves running than the promoted one and the one before"
        created = sorted(self.desired[j].wave.index for j in self.jobs)  # type: ignore[union-attr]
        assert created == list(range(len(created))), "waves created out of order"


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_waves__random_progress_and_applies__gates_always_held(
        tmp_path: Path, sequence: list[tuple[int, int, int, int, str, bool]]) -> None:
    world = World(desired_jobs(tmp_path / "repo", {"rollouts/gw.yaml": TEXT}))
    for wave, succeeded, failed, minutes, alarm, apply in sequence:
        world.devices(wave, succeeded, failed)
        world.now += timedelta(minutes=minutes)
        world.alarm = alarm
        if apply:
            world.apply()
        world.check()
    event(f"wave jobs created: {len(world.jobs)}")
