"""``import_jobs``: read the jobs, refuse what cannot be imported, write, check, report."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.aws import Connection, profile_region
from engine.desired import DesiredJob, NoHashes, desire
from engine.errors import RolloutsError
from engine.facts import ACTIVE, DELETION_IN_PROGRESS, TAG_NAME, TAG_PROJECT
from engine.importer.manifest import (
    FoundJob,
    against_defaults,
    bad_job_id,
    file_stem,
    manifest_fields,
    rollout_name,
    to_yaml,
)
from engine.importer.read import Passed, active_jobs, named_jobs, read_jobs, whose
from engine.loader.tree import deep_merge, display_name, load_tree
from engine.policies.judge import VIOLATION
from engine.remote import RemoteJob
from engine.rollouts import same_revision
from engine.spec import as_compared_to, compared_tags
from engine.validate import validate_folder
from engine.workflow import Resolved, foreign_targets, resolve_folder


class ImportRefused(RolloutsError):
    """Jobs that cannot be imported: unknown, another project's, or a manifest in the way.
    Nothing is written."""

    code = "IMPORT_ERROR"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons) + "; nothing was written")


@dataclass(frozen=True)
class Written:
    """One manifest written."""

    file: str  # as shown to the user
    job_id: str
    name: str
    status: str

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


@dataclass(frozen=True)
class ImportResult:
    project: str
    region: str
    written: tuple[Written, ...]
    skipped: tuple[Passed, ...] = ()
    api_calls: dict[str, int] = field(default_factory=dict)
    # The team's policies the imported jobs break, as validate says them: the manifests are
    # written all the same (adopting rolls nothing out), and plan refuses them until the
    # job is fixed or claims an exception in review.
    violations: tuple[str, ...] = ()


def import_jobs(folder: Path, connection: Connection, job_ids: Sequence[str] = (), *,
                all_active: bool = False, out: Path | None = None) -> ImportResult:
    """Write a manifest for each job named (or, with ``all_active``, each active job
    without the tool's tags) into ``out`` (default: the rollouts folder ``folder``)."""
    if bool(job_ids) == all_active:
        raise ImportRefused(["name the jobs to import, or give --all (not both)"])
    if out is not None and out.exists() and not out.is_dir():
        raise ImportRefused([f"--out {out} is a file: name a folder to write the manifests "
                             "in (it is made if missing)"])
    try:
        resolved = resolve_folder(folder, connection)
    finally:
        gc.unfreeze()  # what resolving froze
    region = resolved.default_region
    api = resolved.apis[region]

    def skip(tags: dict[str, str]) -> str | None:
        reason = whose(tags, resolved.project)
        if reason is None and all_active and TAG_NAME in tags:
            reason = (f"made by an earlier version of the tool as rollout {tags[TAG_NAME]}; "
                      "a plan adopts it once its manifest is in git")
        return reason

    listed = active_jobs(api) if all_active else named_jobs(api, job_ids)
    # A jobId no manifest can pin (moto lets one be made): refused before any read.
    odd = [Passed(j.job_id, f"not importable: its jobId {why}")
           for j in listed if (why := bad_job_id(j.job_id)) is not None]
    readable = [j for j in listed if bad_job_id(j.job_id) is None]
    found, passed, unknown = read_jobs(api, readable, skip)
    passed = odd + passed
    if all_active:
        # Listed by ListJobs, then gone or going before import read it: not active any more.
        passed += [Passed(job_id, "deleted after ListJobs listed it") for job_id in unknown]
        passed += [Passed(job.job_id, "being deleted") for job in found
                   if job.status == DELETION_IN_PROGRESS]
        found = [job for job in found if job.status != DELETION_IN_PROGRESS]
        unknown = []
    reasons = [f"no job {job_id} in account {resolved.account}, region {region}"
               for job_id in unknown]
    if not all_active:
        reasons += [f"job {p.job_id} is {p.reason}: it is not imported"
                    if not p.reason.startswith("not importable") else
                    f"job {p.job_id} is {p.reason}" for p in passed]
    reasons += [f"job {job.job_id} is being deleted: it is not imported"
                for job in found if job.status == DELETION_IN_PROGRESS]
    order = {job.job_id: i for i, job in enumerate(listed)}
    found.sort(key=lambda j: order[j.job_id])
    passed.sort(key=lambda p: order[p.job_id])
    target = (out or resolved.validation.root)
    files, clashes = _places(found, resolved, target)
    if reasons or clashes:
        raise ImportRefused(reasons + clashes)
    written, violations = _write(found, files, resolved, target, region, connection)
    calls: dict[str, int] = {}
    for one in resolved.apis.values():
        for operation, count in one.calls.items():
            calls[operation] = calls.get(operation, 0) + count
    return ImportResult(resolved.project, region, tuple(written),
                        tuple(passed) if all_active else (), dict(sorted(calls.items())),
                        tuple(violations))


def _places(found: list[FoundJob], resolved: Resolved, target: Path
            ) -> tuple[dict[str, Path], list[str]]:
    """Each job's manifest file, and why any cannot be written."""
    pinned = {d.job_id: d for d in resolved.desired if d.pinned}
    names = {d.name: d for d in resolved.desired}
    files: dict[str, Path] = {}
    clashes: list[str] = []
    mine: dict[str, str] = {}
    for job in found:
        name = rollout_name(job)
        d = pinned.get(job.job_id)
        if d is not None:
            clashes.append(f"job {job.job_id} is pinned already by {d.file}:{d.line} "
                           f"(rollout {d.name}); plan adopts it from there")
            continue
        other = names.get(name)
        if other is not None or name in mine:
            where = f"{other.file}:{other.line}" if other else f"job {mine[name]}"
            clashes.append(f"job {job.job_id} would be rollout {name}, which {where} is "
                           "already; rename that rollout, or import into another --out")
            continue
        mine[name] = job.job_id
        path = target / f"{file_stem(name)}.yaml"
        for existing in (path, path.with_suffix(".yml")):
            if existing.exists():
                clashes.append(f"{display_name(existing)} exists: import never overwrites a "
                               "file; move it, or import into another --out")
        files[job.job_id] = path
    return files, clashes


def _defaults_at(target: Path) -> dict[str, Any]:
    """What the ``_defaults.yaml`` files above and at ``target`` merge into a job there."""
    tree = load_tree(target)
    merged: dict[str, Any] = {}
    resolved = target.resolve()
    chain = [tree.defaults[f] for f in (resolved, *resolved.parents) if f in tree.defaults]
    for doc in reversed(chain):  # farthest first, as the loader merges them
        merged = deep_merge(merged, doc.data)
    return merged


def _folder_region(resolved: Resolved, connection: Connection) -> str | None:
    """The region a plan of the folder uses when no --region is given."""
    config = resolved.validation.config
    return ((config.region if config else None) or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or profile_region(Connection(profile=connection.profile)))


def _write(found: list[FoundJob], files: dict[str, Path], resolved: Resolved,
           target: Path, region: str, connection: Connection
           ) -> tuple[list[Written], list[str]]:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImportRefused([f"cannot make the folder {target} to write the manifests in "
                             f"({exc.strerror or exc}): name another --out"]) from exc
    defaults = _defaults_at(target)
    region_key = region != _folder_region(resolved, connection)
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    made: list[Path] = []
    written: list[Written] = []
    try:
        for job in found:
            name = rollout_name(job)
            shown, explicit = (manifest_fields(job, account=resolved.account, region=region,
                                               region_key=region_key, name=name,
                                               explicit=explicit)
                               for explicit in (False, True))
            fields = against_defaults(shown, explicit, defaults)
            path = files[job.job_id]
            with path.open("x", encoding="utf-8") as handle:
                made.append(path)
                handle.write(to_yaml(fields, _header(job, region, day)))
            written.append(Written(display_name(path), job.job_id, name, job.status))
        violations = _check(found, files, resolved, target, region)
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise
    return written, violations


def _header(job: FoundJob, region: str, day: str) -> str:
    said = f"Imported by rollouts import on {day} from AWS IoT job {job.job_id} ({region})."
    if job.status in ACTIVE:
        return (f"{said}\nThe jobId is pinned: the next apply adopts the job (tags it). "
                "A change to a mutable field\nupdates it; any other change replaces it.")
    return (f"{said}\nIt is {job.status}: the next apply adopts it as a finished revision, "
            "and it never runs again.")


def _check(found: list[FoundJob], files: dict[str, Path], resolved: Resolved,
           target: Path, region: str) -> list[str]:
    """Each manifest written, validated and resolved as a plan would, is exactly its job:
    the same immutable spec, mutable fields and team tags. Returns the policies they break
    (no reason to refuse: the job runs already)."""
    validation = validate_folder(target)
    shown = {display_name(path) for path in files.values()}
    mine = [p for p in validation.problems if p.file in shown and p.severity == "error"]
    violations = [f"{p.file}:{p.line}: {p.path}: {p.message}" for p in mine
                  if p.code == VIOLATION]
    problems = [f"{p.file}:{p.line}: {p.path}: {p.message}" for p in mine
                if p.code != VIOLATION]
    by_id = {job.job_id: job for job in validation.jobs if job.job_id is not None}
    for job in found:
        valid = by_id.get(job.job_id)
        if valid is None:
            problems.append(f"{display_name(files[job.job_id])}: the manifest of job "
                            f"{job.job_id} does not validate; please report this")
            continue
        d = desire(valid, project=resolved.project, account=resolved.account,
                   region=valid.region or region, commit=None, hashes=NoHashes())
        problems += [f"{p.file}:{p.line}: {p.path}: {p.message}"
                     for p in foreign_targets(d, resolved.account)]
        differs = _differences(job, d)
        if differs:
            problems.append(f"{valid.file}: the manifest of job {job.job_id} would not be the "
                            f"job ({', '.join(differs)} differ); please report this")
    if problems:
        raise ImportRefused(problems)
    return violations


def _differences(job: FoundJob, d: DesiredJob) -> list[str]:
    remote = RemoteJob(job.job_id, job.arn, job.status, "", tags=job.tags,
                       detail={**job.detail, "documentSource": job.document_source},
                       document=job.document)
    differs: list[str] = []
    if d.region != job.arn.split(":")[3] and job.arn.count(":") >= 5:
        differs.append("region")
    if not same_revision(remote, d):
        spec = as_compared_to(remote.spec or {}, d.spec)
        differs += sorted(k for k in set(spec) | set(d.spec) if spec.get(k) != d.spec.get(k))
    if job.status in ACTIVE and remote.mutable != d.mutable:
        differs += sorted(k for k in set(remote.mutable) | set(d.mutable)
                          if remote.mutable.get(k) != d.mutable.get(k))

    def team(tags: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in compared_tags(tags).items() if not k.startswith("rollouts:")}

    if team(job.tags) != team(d.tags):
        differs.append("tags")
    if job.tags.get(TAG_PROJECT) not in (None, d.project):
        differs.append(TAG_PROJECT)
    return differs
