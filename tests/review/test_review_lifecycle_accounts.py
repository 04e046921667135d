"""Review (lifecycle): the ledger's records are read per region but not per account."""

from __future__ import annotations

from pathlib import Path

from engine.actions import Create
from engine.workflow import apply_run
from tests.conftest import REGION
from tests.test_accounts import _jobs, _plan, _repo, env  # noqa: F401  (the fixture)

PINNED = "targets: [thing/dev-1]\ndocument: {{v: 1}}\njobId: fw-x\naccount: {alias}\n"
STAGING = "444455556666"


def test_pinned_rollout_moved_to_another_account__created_there(
        env: str, tmp_path: Path) -> None:  # noqa: F811
    """A rollout with a pinned jobId moves from account prod to staging (DESIGN.md's "move
    account"). fw-x was never used in staging, so the plan must create it there (and list
    prod's job as an orphan). It plans no create and says "the pinned jobId fw-x was used
    before (canceled by this tool, or deleted); a jobId has one life": History.holds and
    History._canceled key the ledger by (region, jobId), not by account. After apply
    --prune the rollout runs in no account and the next plan shows no changes."""
    root = _repo(tmp_path, names="")
    (root / "fw.yaml").write_text(PINNED.format(alias="prod"))
    assert all(o.ok for o in apply_run(_plan(root, env)))
    (root / "fw.yaml").write_text(PINNED.format(alias="staging"))
    run = _plan(root, env, prune=True)
    creates = [(a.where, a.job_id) for a in run.plan.actions if isinstance(a, Create)]
    assert creates == [(f"staging/{REGION}", "fw-x")], (
        [(a.verb, a.where, a.job_id) for a in run.plan.actions], run.plan.notes)
    assert all(o.ok for o in apply_run(run))
    assert _jobs(STAGING, REGION) == {"fw-x": "IN_PROGRESS"}
