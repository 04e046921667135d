"""Properties over random manifest sets and random sequences of edits (hypothesis, seeded):
apply then plan shows nothing to do; applying twice equals applying once; a plan never
writes; a saved plan applied at once equals the live apply."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from engine.aws import WRITE_OPERATIONS, Connection
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.saved import check_saved, load_saved, save_plan
from engine.workflow import PlanRun, apply_run, plan_folder

from .conftest import REGION

NAMES = ["alpha", "beta", "gamma", "delta"]
job = st.fixed_dictionaries({
    "threshold": st.integers(1, 100),
    "version": st.sampled_from(["1.0", "1.1", "2.0"]),
    "team": st.sampled_from(["fw", "ops", None]),
    "timeout": st.one_of(st.none(), st.integers(1, 10080)),
})
folder_state = st.dictionaries(st.sampled_from(NAMES), job, min_size=1, max_size=4)
edit = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(NAMES), job),
    st.tuples(st.just("remove"), st.sampled_from(NAMES), st.none()),
    st.tuples(st.just("cancel-by-hand"), st.sampled_from(NAMES), st.none()),
)


def _manifest(spec: dict[str, Any]) -> str:
    text = (f"targets: [thinggroup/fleet]\ndocument: {{version: '{spec['version']}'}}\n"
            "abortConfig:\n  criteriaList:\n    - {failureType: FAILED, action: CANCEL, "
            f"thresholdPercentage: {spec['threshold']}, minNumberOfExecutedThings: 1}}\n")
    if spec["team"]:
        text += f"tags: {{team: {spec['team']}}}\n"
    if spec["timeout"]:
        text += f"timeoutConfig: {{inProgressTimeoutInMinutes: {spec['timeout']}}}\n"
    return text


def _write(root: Path, state: dict[str, dict[str, Any]]) -> None:
    for path in root.glob("*.yaml"):
        if path.name != "_config.yaml":
            path.unlink()
    for name, spec in state.items():
        (root / f"{name}.yaml").write_text(_manifest(spec))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.original = BaseClient._make_api_call

    def __enter__(self) -> Recorder:
        recorder = self

        def record(client: Any, operation: str, params: Any) -> Any:
            recorder.calls.append(operation)
            return recorder.original(client, operation, params)

        BaseClient._make_api_call = record  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        BaseClient._make_api_call = self.original  # type: ignore[method-assign]


def _plan(root: Path) -> PlanRun:
    return plan_folder(root, Connection(region=REGION, rate=0), prune=True,
                       ledger_override=FileLedger(root.parent / "ledger.json"))


def _world() -> dict[str, str]:
    return {job_id: job.status for job_id, job in moto_jobs.backend().jobs.items()}


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(initial=folder_state, edits=st.lists(edit, max_size=4))
def test_apply_converges_is_idempotent_and_plan_never_writes(
        initial: dict[str, dict[str, Any]], edits: list[tuple[str, str, Any]]) -> None:
    moto_jobs.install()
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        base = Path(tmp)
        (base / ".git").mkdir()
        root = base / "rollouts"
        root.mkdir()
        (root / "_config.yaml").write_text("region: eu-west-1\n")
        state = dict(initial)
        for step in [None, *edits]:
            if step is not None:
                kind, name, spec = step
                if kind == "set":
                    state[name] = spec
                elif kind == "remove" and len(state) > 1:
                    state.pop(name, None)
                elif kind == "cancel-by-hand":
                    active = [j for j, s in _world().items()
                              if j.startswith(f"{name}-") and s == "IN_PROGRESS"]
                    for job_id in active:
                        moto_jobs.set_job_status(job_id, "CANCELED")
            _write(root, state)

            with Recorder() as recorder:  # a plan never writes
                planned = _plan(root)
            assert not set(recorder.calls) & WRITE_OPERATIONS

            saved = base / "plan.json"  # a saved plan applied at once is the live apply
            save_plan(saved, root, planned, prune=True)
            live = _plan(root)
            check_saved(load_saved(saved), live)

            assert all(o.ok for o in apply_run(live))
            after_once = _world()
            again = _plan(root)  # apply then plan: nothing to do
            assert again.plan.actions == ()
            assert apply_run(again) == []  # applying twice equals applying once
            assert _world() == after_once

            for name in state:  # each rollout has at most one active job
                active = [j for j, s in after_once.items()
                          if j.rsplit("-", 1)[0] == name and s == "IN_PROGRESS"]
                assert len(active) <= 1
