"""The plan: one typed action per change, built without reading or writing anything.

``build_plan`` takes the desired jobs, the remote state of each region and the ledger's
job ids, and returns data. The executor (``engine.apply``) and every renderer handle each
action type of the closed union ``Action``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.desired import DesiredJob
from engine.diff import FieldChange, explain
from engine.identity import TAG_NAME, name_of_derived
from engine.normalize import compared_tags, immutable_part, mutable_part, picked_mutable
from engine.remote import RemoteJob, RemoteState
from engine.schema.rules import clock_findings


@dataclass(frozen=True)
class Create:
    job: DesiredJob


@dataclass(frozen=True)
class Update:
    job: DesiredJob
    arn: str
    fields: dict[str, Any]  # UpdateJob parameters besides jobId
    set_tags: dict[str, str]
    remove_tags: tuple[str, ...]
    diff: tuple[FieldChange, ...]


@dataclass(frozen=True)
class Replace:
    job: DesiredJob
    old_job_ids: tuple[str, ...]
    diff: tuple[FieldChange, ...]  # from the newest earlier revision to this one


@dataclass(frozen=True)
class Cancel:
    name: str
    job_id: str
    region: str
    source: str | None


@dataclass(frozen=True)
class Conflict:
    job: DesiredJob
    fields: tuple[str, ...]
    diff: tuple[FieldChange, ...]


Action = Create | Update | Replace | Cancel | Conflict
ACTION_NAMES: dict[type, str] = {Create: "create", Update: "update", Replace: "replace",
                                 Cancel: "cancel", Conflict: "conflict"}


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    unchanged: tuple[str, ...]
    notes: tuple[str, ...]
    errors: tuple[str, ...] = ()
    # Jobs of the manifests that AWS holds but the ledger lacks (an apply cut short between
    # CreateJob and its record): apply records them, so no record is lost for good.
    unrecorded: tuple[DesiredJob, ...] = ()
    # jobId -> status@lastUpdatedAt of every remote job the plan's actions depend on
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def changes(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if not isinstance(a, Conflict))

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(isinstance(a, Conflict) for a in self.actions)

    def summary(self) -> dict[str, int]:
        counts = {name: 0 for name in ("create", "update", "replace", "cancel")}
        counts["unchanged"] = len(self.unchanged)
        counts["conflict"] = 0
        for action in self.actions:
            counts[ACTION_NAMES[type(action)]] += 1
        return counts


def build_plan(desired: list[DesiredJob], remote: dict[str, RemoteState],
               ledger: set[str] | None, *, prune: bool = False,
               now: datetime | None = None) -> Plan:
    """Decide what to do for each desired job; pure. ``ledger`` is None without a ledger."""
    actions: list[Action] = []
    unchanged: list[str] = []
    notes: list[str] = []
    errors: list[str] = []
    unrecorded: list[DesiredJob] = []
    fingerprints: dict[str, dict[str, str]] = {}
    known = ledger if ledger is not None else set()
    completed = 0

    def seen(job: RemoteJob, region: str) -> None:
        fingerprints.setdefault(region, {})[job.job_id] = job.fingerprint

    for d in desired:
        state = remote[d.region]
        job = state.jobs.get(d.job_id)
        if job is not None:
            seen(job, d.region)
            if ledger is not None and d.job_id not in known:
                unrecorded.append(d)
        if job is None:
            if d.job_id in known:
                unchanged.append(d.name)
                notes.append(f"{d.job_id} is in the ledger but gone from AWS: already "
                             "applied, not re-created")
                continue
            if now is not None:
                errors += [f"{d.file}:{d.line}: {d.name}: {f.message}"
                           for f in clock_findings(d.valid.manifest, now, warning=False)]
            old = [r for r in state.revisions(d.name)
                   if r.active and r.tags is not None and r.tags.get(TAG_NAME) == d.name]
            for r in old:
                seen(r, d.region)
            if old:
                newest = max(old, key=lambda r: r.last_updated)
                actions.append(Replace(d, tuple(sorted(r.job_id for r in old)),
                                       tuple(_revision_diff(newest, d))))
            else:
                actions.append(Create(d))
        elif job.status == "CANCELED":
            unchanged.append(d.name)
            notes.append(f"{d.job_id} was canceled remotely and is not re-created; "
                         "change the manifest to roll out a new revision")
        elif job.status == "DELETION_IN_PROGRESS":
            unchanged.append(d.name)
            notes.append(f"{d.job_id} is being deleted in AWS; it is not re-created")
        elif not job.active:
            unchanged.append(d.name)
            completed += job.status == "COMPLETED"
        else:
            action, note = _compare(d, job)
            if note:
                notes.append(note)
            if action is None:
                unchanged.append(d.name)
            else:
                actions.append(action)

    if prune:
        names = {d.name for d in desired}
        for region, state in sorted(remote.items()):
            for job in state.jobs.values():
                name = name_of_derived(job.job_id)
                tagged = (job.tags or {}).get(TAG_NAME)
                if job.active and name is not None and tagged == name and name not in names:
                    seen(job, region)
                    source = (job.tags or {}).get("rollouts:source")
                    actions.append(Cancel(name, job.job_id, region, source))
    for region in sorted(remote):
        notes.extend(remote[region].notes)
    if completed:
        notes.append(f"{completed} rollout(s) have completed: edits to their manifests change "
                     "nothing until a new revision (a change to the document or targets)")
    if unrecorded:
        notes.append(f"{len(unrecorded)} job(s) in AWS are missing from the ledger "
                     f"({', '.join(d.job_id for d in unrecorded[:5])}"
                     f"{', ...' if len(unrecorded) > 5 else ''}); apply records them")
    return Plan(tuple(actions), tuple(unchanged), tuple(notes), tuple(errors),
                tuple(unrecorded), fingerprints)


def _readable(fields: dict[str, Any]) -> dict[str, Any]:
    """The document as data, so a diff names the key that changed, not the whole string."""
    document = fields.get("document")
    if isinstance(document, str):
        try:
            return {**fields, "document": json.loads(document)}
        except ValueError:
            return fields
    return fields


def _revision_diff(old: RemoteJob, d: DesiredJob) -> list[FieldChange]:
    detail = old.detail or {}
    before = {**immutable_part(detail, old.document), **mutable_part(detail)}
    after = {**immutable_part(d.request, d.request.get("document")), **mutable_part(d.request)}
    return explain(_readable(before), _readable(after))


def _compare(d: DesiredJob, job: RemoteJob) -> tuple[Action | None, str | None]:
    detail = job.detail or {}
    if d.pinned:
        before = immutable_part(detail, job.document)
        after = immutable_part(d.request, d.request.get("document"))
        if before != after:
            diff = explain(_readable(before), _readable(after))
            conflicting = tuple(sorted({c.path.split(".")[0].split("[")[0] for c in diff}))
            return Conflict(d, conflicting, tuple(diff)), None
    wanted_tags = compared_tags(d.tags)
    # Tags not read (tag drift checks off): take them as they should be.
    remote_tags = wanted_tags if job.tags is None else compared_tags(job.tags)
    if remote_tags == wanted_tags and picked_mutable(detail) == picked_mutable(d.request):
        return None, None  # in sync as they stand, so in sync once normalised
    before_m = mutable_part(detail)
    after_m = mutable_part(d.request)
    note = None
    cleared = sorted(k for k in before_m if k not in after_m)
    if cleared:
        # UpdateJob sets fields; it has no way to unset one.
        note = (f"{d.job_id}: {', '.join(cleared)} left the manifest, but UpdateJob cannot "
                "clear a field; it stays on the job until a new revision")
        before_m = {k: v for k, v in before_m.items() if k not in cleared}
    if before_m == after_m and remote_tags == wanted_tags:
        return None, note
    diff = explain(before_m, after_m) + [
        FieldChange(f"tags.{k}", remote_tags.get(k), wanted_tags.get(k))
        for k in sorted(set(remote_tags) | set(wanted_tags))
        if remote_tags.get(k) != wanted_tags.get(k)
    ]
    fields = {k: v for k, v in after_m.items() if before_m.get(k) != v}
    set_tags = {k: v for k, v in wanted_tags.items() if remote_tags.get(k) != v}
    remove = tuple(sorted(k for k in remote_tags if k not in wanted_tags))
    return Update(d, job.arn, fields, set_tags, remove, tuple(diff)), note
