"""The engine's entry points for plan and apply: what a CLI or a CI script calls.

``plan_folder`` validates a rollouts folder, resolves every job, reads AWS IoT and the
ledger, and builds the plan; it writes nothing anywhere. ``apply_run`` carries a plan out.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.apply import Context, Outcome, apply_plan, record_missing
from engine.aws import Connection, IotApi
from engine.desired import DesiredJob, desire
from engine.errors import InvalidManifests, Problem, RolloutsError
from engine.identity import TAG_COMMIT, TAG_SOURCE
from engine.ledger import Ledger, NoLedger, open_ledger
from engine.plan import Plan, build_plan
from engine.remote import RemoteState, read_state
from engine.status import RolloutStatus, read_status
from engine.validate import Validation, validate_folder


class NoRegion(RolloutsError):
    code = "CONFIG_ERROR"


@dataclass
class PlanRun:
    """Everything a plan was built from, and the plan."""

    validation: Validation
    desired: list[DesiredJob]
    plan: Plan
    apis: dict[str, IotApi]
    ledger: Ledger
    commit: str | None
    remote: dict[str, RemoteState] = field(default_factory=dict)

    def api_calls(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for api in self.apis.values():
            for operation, count in api.calls.items():
                total[operation] = total.get(operation, 0) + count
        return dict(sorted(total.items()))

    def extra_tags(self, job: DesiredJob) -> dict[str, str]:
        tags = {TAG_SOURCE: job.source}
        if self.commit:
            tags[TAG_COMMIT] = self.commit
        return tags


def git_commit(repo_root: Path) -> str | None:
    """HEAD of the git work tree at ``repo_root``, or None outside one."""
    if not (repo_root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


@dataclass
class Resolved:
    """A valid folder resolved against the account in use: desired jobs and their clients."""

    validation: Validation
    desired: list[DesiredJob]
    apis: dict[str, IotApi]


def resolve_folder(folder: Path, connection: Connection) -> Resolved:
    """Validate ``folder`` (raising InvalidManifests) and resolve every job's identity."""
    validation = validate_folder(folder, use_cache=True)
    try:
        return _resolve(validation, connection)
    finally:
        validation.save_cache()


def _resolve(validation: Validation, connection: Connection) -> Resolved:
    if not validation.ok:
        raise InvalidManifests(validation.problems)
    config = validation.config
    default_region = connection.region or (config.region if config else None)
    if not default_region:
        raise NoRegion("no region: set region: in rollouts/_config.yaml, or pass --region")
    regions = {job.region or default_region for job in validation.jobs} | {default_region}
    apis = {r: IotApi(replace(connection, region=r)) for r in sorted(regions)}
    account = apis[default_region].account()
    desired = [desire(job, account=account, region=job.region or default_region)
               for job in validation.jobs]
    problems = [p for d in desired for p in foreign_targets(d, account)]
    if problems:
        raise InvalidManifests(problems)
    return Resolved(validation, desired, apis)


def foreign_targets(d: DesiredJob, account: str) -> list[Problem]:
    """Targets in another account or region than the job's: AWS would refuse the job."""
    problems = []
    for index, arn in enumerate(d.request["targets"]):
        _, _, _, region, owner, _ = arn.split(":", 5)
        if (region, owner) != (d.region, account):
            problems.append(Problem(d.file, d.line, 1, f"targets[{index}]",
                                    f"{arn} is in account {owner}, region {region}, but the "
                                    f"job runs in account {account}, region {d.region}; a job "
                                    "can only target things of its own account and region"))
    return problems


def plan_folder(folder: Path, connection: Connection, *, ledger: str | None = None,
                prune: bool = False, now: datetime | None = None,
                ledger_override: Ledger | None = None, tag_drift: bool = True) -> PlanRun:
    """Validate, resolve, read AWS and the ledger, and plan. Raises InvalidManifests."""
    resolved = resolve_folder(folder, connection)
    validation, desired, apis = resolved.validation, resolved.desired, resolved.apis
    config = validation.config
    remote = {region: read_state(api, [d for d in desired if d.region == region], prune=prune,
                                 tag_drift=tag_drift)
              for region, api in apis.items()}
    where = ledger or (config.ledger if config else None)
    book = ledger_override or open_ledger(where, validation.repo_root,
                                          _s3_client(connection) if _is_s3(where) else None)
    ids = None if isinstance(book, NoLedger) else book.job_ids()
    plan = build_plan(desired, remote, ids, prune=prune,
                      now=now or datetime.now(timezone.utc).replace(tzinfo=None))
    return PlanRun(validation, desired, plan, apis, book, git_commit(validation.repo_root),
                   remote)


def status_folder(folder: Path, connection: Connection) -> list[RolloutStatus]:
    """The status of every rollout in ``folder``: its current job and how far it got."""
    resolved = resolve_folder(folder, connection)
    return read_status(resolved.desired, resolved.apis)


def _is_s3(location: str | None) -> bool:
    return bool(location and location.startswith("s3://"))


def _s3_client(connection: Connection) -> Any:
    from engine.aws import s3_client

    return s3_client(connection)


def apply_run(run: PlanRun) -> list[Outcome]:
    """Carry out ``run``'s plan; a plan with conflicts or errors is never applied."""
    if run.plan.failed:
        return []
    context = Context(run.apis, run.ledger, run.commit)
    record_missing(run.plan, context)
    return apply_plan(run.plan, context)


def ledger_warning(run: PlanRun) -> str | None:
    if isinstance(run.ledger, NoLedger):
        return ("no ledger is set: a job that AWS deletes or purges (730 days after it ends) "
                "would be created again by a later apply; set ledger: in _config.yaml")
    return None
