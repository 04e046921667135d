"""The engine's entry points for plan and apply: what a CLI or a CI script calls.

``plan_folder`` validates a rollouts folder, resolves every job in its account and region
(assuming the declared accounts' roles, ``engine.accounts``), reads the ledger and AWS IoT
in every place (``engine.places``) and builds the plan; it writes nothing anywhere.
``apply_run`` carries a plan out.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from engine.accounts import Accounts, Place, connect, regions_by_alias
from engine.apply import Context, Outcome, apply_plan, record_missing
from engine.aws import Connection, IotApi, ObjectStore, profile_region
from engine.desired import DesiredJob, desire_all
from engine.errors import ConfigError, InvalidManifests, Problem
from engine.facts import TAG_HALTED
from engine.gates import read_gate
from engine.history import History
from engine.ledger import Ledger, LedgerRecord, NoLedger, open_ledger
from engine.loader.tree import folder_project, top_of
from engine.places import ended_records, read_places
from engine.plan import Plan, build_plan
from engine.reach import not_read, read_reach
from engine.remote import list_region
from engine.review.attach import reviewed, wanted
from engine.rollouts import Region, gate_alarms, group
from engine.schema.constraints import REGION_PATTERN
from engine.status import RolloutStatus, current_job, rollout_status, wave_waits
from engine.validate import Validation, validate_folder
from engine.waves import progress


class NoRegion(ConfigError):
    """No region in the options, _config.yaml or the environment."""


@dataclass
class PlanRun:
    """Everything a plan was built from, and the plan."""

    validation: Validation
    desired: list[DesiredJob]
    plan: Plan
    apis: dict[str, IotApi]
    ledger: Ledger
    project: str
    account: str
    commit: str | None
    regions: list[Region] = field(default_factory=list)
    stores: list[ObjectStore] = field(default_factory=list)
    # How jobs of the project ended, read by this plan and not yet in the ledger: apply
    # records them, so later plans need not read them again.
    ended: list[LedgerRecord] = field(default_factory=list)
    # Clients whose calls count but that read no place (the roles' assumption and checks).
    others: list[IotApi] = field(default_factory=list)

    def api_calls(self) -> dict[str, int]:
        total: dict[str, int] = {}
        counters = [api.calls for api in [*self.apis.values(), *self.others]] + [
            s.calls for s in self.stores]
        for calls in counters:
            for operation, count in calls.items():
                total[operation] = total.get(operation, 0) + count
        return dict(sorted(total.items()))


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


def project_of(validation: Validation) -> tuple[str, str | None]:
    """The project, and a note where it was not set in ``_config.yaml``."""
    config = validation.config
    if config is not None and config.project:
        return config.project, None
    name = folder_project(validation.repo_root)
    return name, (f"project {name}: the name of the repository's folder; set project: in "
                  "_config.yaml to keep it when the repository is cloned under another name")


@dataclass
class Resolved:
    """A valid folder resolved against the accounts in use: desired jobs and the clients of
    every place (account, region) to read, by place key (``engine.accounts``)."""

    validation: Validation
    desired: list[DesiredJob]
    apis: dict[str, IotApi]
    project: str
    account: str  # the starting credentials' account
    default_region: str
    commit: str | None
    notes: list[str]
    accounts: Accounts | None = None
    places: dict[str, Place] = field(default_factory=dict)
    others: list[IotApi] = field(default_factory=list)  # counted clients of no place

    def add_place(self, alias: str | None, region: str) -> None:
        """Read ``region`` of the account ``alias`` too (a region only the ledger or
        ``regions:`` names)."""
        assert self.accounts is not None
        place = self.accounts.place(alias, region)
        if place.key not in self.apis:
            home = self.others[0] if self.others else None
            if alias is None and home is not None and home.region == region:
                api = self.others.pop(0)  # the client that asked who we are: reused
            else:
                api = IotApi(replace(self.accounts.connections[alias], region=region))
                api.known_account(place.account)  # checked when the role was assumed
            self.places[place.key] = place
            self.apis[place.key] = api


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
    # The AWS CLI's order: the option, the settings file, the environment, the profile.
    default_region = (connection.region or (config.region if config else None)
                      or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                      or profile_region(connection))
    if not default_region:
        raise NoRegion("no region: set region: in rollouts/_config.yaml, pass --region, or "
                       "set AWS_REGION")
    if not re.fullmatch(REGION_PATTERN, default_region):
        raise NoRegion(f"{default_region!r} is no region name (from --region, _config.yaml, "
                       "AWS_REGION / AWS_DEFAULT_REGION or the profile, in that order); "
                       "use one such as eu-west-1")
    home = IotApi(replace(connection, region=default_region))
    declared = (config.accounts if config is not None else None) or {}
    # Every declared role is assumed, and its account checked, before anything is read.
    accounts = (connect(connection, home, declared) if declared
                else Accounts(home.account(), {}, {None: connection}))
    account = accounts.home
    where = [(job.data.get("account"), job.region or default_region) for job in validation.jobs]
    resolved = Resolved(validation, [], {}, "", account, default_region, None, [], accounts,
                        others=[home, *accounts.checks])
    for alias, regions in regions_by_alias(where, default_region, declared, (),
                                           any(a is None for a, _ in where)).items():
        for region in sorted(regions):
            resolved.add_place(alias, region)
    project, note = project_of(validation)
    commit = git_commit(validation.repo_root)
    desired = desire_all(validation.jobs, project=project, account=account,
                         default_region=default_region, commit=commit,
                         hashes=validation.spec_hashes, accounts=accounts.ids)
    problems = [p for d in desired for p in foreign_targets(d, d.account)]
    problems += pinned_clashes(desired)
    if problems:
        raise InvalidManifests(problems)
    return replace(resolved, desired=desired, project=project, commit=commit,
                   notes=[note] if note else [])


def pinned_clashes(desired: list[DesiredJob]) -> list[Problem]:
    """A pinned jobId equal to another rollout's derived one: the two would fight over one
    job (the derived id is known only once targets resolve in an account)."""
    derived = {(d.where, d.job_id): d for d in desired if not d.pinned}
    problems = []
    for d in desired:
        other = derived.get((d.where, d.job_id)) if d.pinned else None
        if other is not None:
            problems.append(Problem(d.file, d.line, 1, "jobId",
                                    f"jobId {d.job_id} is the jobId rollout {other.name} "
                                    f"({other.file}:{other.line}) derives from its spec; "
                                    "pin another jobId"))
    return problems


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


def scope_of(validation: Validation) -> str:
    """The part of the repository a plan may prune in: everything when the planned folder is
    the top (it holds _config.yaml), else that subtree."""
    root = validation.root
    if any((root / name).exists() for name in ("_config.yaml", "_config.yml")):
        return ""
    try:
        return root.relative_to(validation.repo_root).as_posix().rstrip("/") + "/"
    except ValueError:
        return ""


def plan_folder(folder: Path, connection: Connection, *, ledger: str | None = None,
                prune: bool = False, now: datetime | None = None,
                ledger_override: Ledger | None = None, reach: bool = True) -> PlanRun:
    """Validate, resolve, read the ledger and AWS, and plan. Raises InvalidManifests.
    ``reach``: count the targeted thing groups for the review figures (else unread)."""
    try:
        return _plan_folder(folder, connection, ledger=ledger, prune=prune, now=now,
                            ledger_override=ledger_override, reach=reach)
    finally:
        gc.unfreeze()  # what desire_all froze: a long-lived caller collects it again


def _plan_folder(folder: Path, connection: Connection, *, ledger: str | None,
                 prune: bool, now: datetime | None,
                 ledger_override: Ledger | None, reach: bool = True) -> PlanRun:
    resolved = resolve_folder(folder, connection)
    validation, desired = resolved.validation, resolved.desired
    config = validation.config
    prune = prune or bool(config and config.prune)
    where = ledger or (config.ledger if config else None)
    stores: list[ObjectStore] = []
    if ledger_override is not None:
        book = ledger_override
    else:
        store = ObjectStore(connection) if where and where.startswith("s3://") else None
        stores = [store] if store is not None else []
        book = open_ledger(where, validation.repo_root, store)
    history = None if isinstance(book, NoLedger) else History.of(
        resolved.project, book.records(), resolved.account)
    accounts = resolved.accounts
    assert accounts is not None
    regions_read = (config.regions if config is not None else None) or ()
    extra = {(alias, region) for alias in {p.alias for p in resolved.places.values()}
             for region in regions_read}
    notes = list(resolved.notes)
    if history is not None:  # where the project has had jobs, in every account still declared
        mine = [r for r in history.records if r.project == resolved.project]
        extra |= {(alias, r.region) for r in mine
                  if (alias := accounts.alias_of(r.account or accounts.home)) != ""}
        gone = sorted({r.account for r in mine if r.account
                       and accounts.alias_of(r.account) == ""})
        if gone:
            notes.append(f"the ledger holds jobs of this project in account(s) {', '.join(gone)}"
                         ", which accounts: in _config.yaml no longer declares: they are not "
                         "read (their orphans are neither listed nor pruned)")
    for alias, region in sorted(extra, key=lambda p: (p[0] or "", p[1])):
        resolved.add_place(alias, region)
    apis = resolved.apis
    scope = scope_of(validation)
    regions = read_places(resolved.project, resolved.desired, apis, resolved.places, history,
                          scope, _names_elsewhere(validation, scope))
    clock = now or datetime.now(timezone.utc).replace(tzinfo=None)
    plan = build_plan(resolved.project, regions, history, prune=prune, now=clock)
    plan = replace(plan, notes=tuple(notes) + plan.notes)
    if not plan.failed:  # the review figures: group sizes read once, then pure arithmetic
        groups = wanted(plan, regions)
        # A group ARN names its account and region: the client of that place reads it.
        by_place = {f"{p.account}:{p.region}": apis[key] for key, p in resolved.places.items()}
        counted = read_reach(by_place, groups) if reach else not_read(groups)
        plan = reviewed(plan, regions, counted.counts, now=clock)
        plan = replace(plan, notes=plan.notes + tuple(counted.notes))
    return PlanRun(validation, desired, plan, apis, book, resolved.project, resolved.account,
                   resolved.commit, regions, stores,
                   ended_records(resolved.project, regions, history), resolved.others)


def _names_elsewhere(validation: Validation, scope: str) -> frozenset[str]:
    """For a plan of a subfolder: the rollouts git holds outside it (a manifest moved out of
    the subfolder is no orphan)."""
    if not scope:
        return frozenset()
    whole = validate_folder(top_of(validation.root), use_cache=True)
    whole.save_cache()
    mine = {job.name for job in validation.jobs}
    return frozenset(job.name for job in whole.jobs if job.name not in mine)


def record_reads(run: PlanRun) -> None:
    """Write to the ledger what a plan read and the ledger lacks: jobs an interrupted apply
    did not record, and how the project's finished jobs ended."""
    context = Context(run.apis, run.ledger, run.commit, run.project, run.account)
    record_missing(run.plan, context)
    run.ledger.append(run.ended)


def apply_run(run: PlanRun) -> list[Outcome]:
    """Carry out ``run``'s plan; a plan with conflicts or errors is never applied."""
    if run.plan.failed:
        return []
    record_reads(run)
    context = Context(run.apis, run.ledger, run.commit, run.project, run.account)
    return apply_plan(run.plan, context)


def ledger_warning(run: PlanRun) -> str | None:
    if isinstance(run.ledger, NoLedger):
        return ("no ledger is set: a job that AWS deletes or purges (730 days after it ends) "
                "would be created again by a later apply; set ledger: in _config.yaml")
    return None


def status_folder(folder: Path, connection: Connection) -> list[RolloutStatus]:
    """The status of every rollout in ``folder``: its current job and how far it got."""
    try:
        resolved = resolve_folder(folder, connection)
    finally:
        gc.unfreeze()  # what desire_all froze

    def region_status(key: str) -> list[RolloutStatus]:
        api, place = resolved.apis[key], resolved.places[key]
        here = [d for d in resolved.desired if d.where == key]
        state = replace(list_region(api, resolved.project, names={d.name for d in here},
                                    ids={d.job_id for d in here}),
                        account=place.account, alias=place.alias)
        out = []
        grouped = group(resolved.project, resolved.desired, state)
        names = gate_alarms(grouped)
        alarms = api.alarm_states(names) if names else {}
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        halted: dict[str, str] = {}  # rollout -> the wave whose gate failed
        read = []
        for rollout in grouped.rollouts:
            job = current_job(rollout)
            answer = api.describe_job(job.job_id) if job is not None else None
            read.append((rollout, job, answer.get("job") if answer else None))
        waits = wave_waits(read, alarms, now)
        for rollout, job, detail in read:
            d = rollout.desired
            gate = None
            if job is not None and detail is not None and d.wave is not None \
                    and not d.wave.last:  # how far the next wave is
                gate = read_gate(d.wave.gate, progress(replace(job, detail=detail)), alarms,
                                 promoted=d.wave.promoted, now=now)
            status = rollout_status(d, detail, gate)
            if job is None and status.name in waits:
                status = replace(status, waits=waits[status.name])
            if d.wave is not None:
                if job is None and d.name in halted:
                    status = replace(status, halted=halted[d.name])
                elif job is not None and (job.tag(TAG_HALTED) or (
                        gate is not None and gate.state == "failed")):
                    halted.setdefault(d.name, d.wave.name)
            out.append(status)
        return out

    with ThreadPoolExecutor(max_workers=max(1, len(resolved.apis))) as pool:
        by_region = dict(zip(sorted(resolved.apis),
                             pool.map(region_status, sorted(resolved.apis)), strict=True))
    position = {d.name if d.wave is None else f"{d.name}/{d.wave.name}": i
                for i, d in enumerate(resolved.desired)}
    statuses = [s for region in sorted(by_region) for s in by_region[region]]
    return sorted(statuses, key=lambda s: position[s.name])
