"""What a plan does to one job: bring it to the manifest in place (update, rename, adopt),
create git's revision (or replace others with it), cancel what makes way. Pure.

``engine.plan`` decides, rollout by rollout (and wave by wave), which of these each rollout
needs; ``Out`` collects what they make, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.actions import (
    Action,
    Adopt,
    Cancel,
    Create,
    JobRef,
    Rename,
    Replace,
    Update,
)
from engine.desired import DesiredJob
from engine.diff import FieldChange, attributed, explain
from engine.facts import (
    TAG_MUTABLE_HASH,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SOURCE,
    TAG_SPEC_HASH,
)
from engine.history import History
from engine.remote import RemoteJob
from engine.rollouts import Rollout
from engine.schema.rules import clock_findings
from engine.spec import as_compared_to, compared_tags, readable, same_mutable
from engine.waves import WaveStep


@dataclass(frozen=True)
class Orphan:
    """An active job of the project whose rollout is not in git (in its region)."""

    name: str
    job_id: str
    region: str
    source: str | None
    account: str = ""
    alias: str | None = None  # its account's alias; None: the starting credentials'

    @property
    def where(self) -> str:
        return self.region if self.alias is None else f"{self.alias}/{self.region}"


@dataclass(frozen=True)
class Unrecorded:
    """A job of git's revision that AWS holds and the ledger lacks (an apply cut short
    between CreateJob and its record): apply records it, so no record is lost for good."""

    job: DesiredJob
    job_id: str


@dataclass
class Out:
    """What planning collects, in order."""

    actions: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    unrecorded: list[Unrecorded] = field(default_factory=list)
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)
    waves: list[WaveStep] = field(default_factory=list)
    completed: int = 0

    def seen(self, job: RemoteJob, where: str) -> None:
        """The action depends on ``job`` of the place ``where``: a saved plan checks it."""
        jobs = self.fingerprints.get(where)
        if jobs is None:
            jobs = self.fingerprints[where] = {}
        jobs[job.job_id] = job.fingerprint


def keep(d: DesiredJob, job: RemoteJob, history: History | None, out: Out) -> None:
    """Git's revision runs as ``job``: brought to the manifest in place, and recorded."""
    in_place(d, job, out)
    if history is not None and job.project == d.project and not history.created(
            d.region, job.job_id, d.account):
        out.unrecorded.append(Unrecorded(d, job.job_id))


def create(rollout: Rollout, revision: list[RemoteJob], others: list[RemoteJob],
            history: History | None, now: datetime | None, out: Out) -> None:
    d = rollout.desired

    def taken(job_id: str) -> bool:
        return rollout.held(job_id) or (history is not None
                                        and history.holds(d.region, job_id, d.account))

    if d.pinned and taken(d.job_id):
        out.unchanged.append(d.name)
        out.notes.append(f"{d.name}: the pinned jobId {d.job_id} was used before (canceled "
                         "by this tool, or deleted); a jobId has one life: change the jobId "
                         "to roll it out again")
        make_way(d, others, d.job_id, out)
        return
    life = 1
    while taken(d.job_id_of_life(life)):
        life += 1  # AWS or the ledger holds that id: an earlier life, or another's job
    job_id = d.job_id_of_life(life)
    namesake = rollout.namesake
    if namesake is not None and namesake.project not in (None, d.project) and \
            namesake.name == d.name and namesake.tag(TAG_SPEC_HASH) == d.spec_hash:
        out.notes.append(f"{d.name}: the same revision runs (or ran) as {namesake.job_id} of "
                         f"project {namesake.project}; if these manifests are that project's, "
                         f"set project: {namesake.project} in _config.yaml instead of "
                         "rolling it out again")
    if now is not None:
        out.errors += [f"{d.file}:{d.line}: {d.name}: {f.message}"
                       for f in clock_findings(d.manifest, now, warning=False)]
    if revision:
        out.notes.append(f"{d.name}: git's revision was canceled by this tool before "
                         f"({', '.join(j.job_id for j in revision)}); it is rolled out again "
                         f"as {job_id}")
    request = d.create_request(job_id)
    if others:
        for job in others:
            out.seen(job, d.where)
        newest = max(others, key=lambda j: j.created_at)
        out.actions.append(Replace(d, job_id, request,
                                   tuple(ref(j) for j in others),
                                   tuple(_revision_diff(newest, d))))
    else:
        out.actions.append(Create(d, job_id, request))


def ref(job: RemoteJob) -> JobRef:
    return JobRef(job.job_id, job.arn, job.tag(TAG_SPEC_HASH) or "unknown")


def make_way(d: DesiredJob, others: list[RemoteJob], kept: str, out: Out) -> None:
    """Cancel every other active revision: git's is ``kept``."""
    for job in others:
        out.seen(job, d.where)
        out.actions.append(Cancel(d.name, ref(job), d.region, job.source,
                                  f"replace:{kept}", account=d.account, alias=d.alias))


def _revision_diff(old: RemoteJob, d: DesiredJob) -> list[FieldChange]:
    if old.spec is None:
        return []
    before = {**as_compared_to(old.spec, d.spec), **old.mutable}
    return explain_change(d, readable(before), readable({**d.spec, **d.mutable}))


def explain_change(d: DesiredJob, before: dict[str, object], after: dict[str, object]
             ) -> list[FieldChange]:
    """The field diffs of a job, each naming the _defaults.yaml its new value came from."""
    return attributed(explain(before, after), d.valid.defaults_from)


def in_place(d: DesiredJob, job: RemoteJob, out: Out) -> None:
    """Bring a job of git's revision to the manifest: its mutable fields (while it is
    active) and its tags. A job of another name of the project is a rename; one without
    this project's tags is adopted."""
    out.seen(job, d.where)
    wanted = d.tags  # compared tags already: validation refuses aws: and rollouts: keys
    # Tags not read are taken as they should be (jobs of this project are always read).
    remote = wanted if job.tags is None else compared_tags(job.tags)
    kind: type[Update] | type[Rename] | type[Adopt] = Update
    set_extra: dict[str, str] = {}
    tags = job.tags or {}
    if tags.get(TAG_PROJECT) != d.project:
        kind = Adopt
    elif tags.get(TAG_NAME) != d.name:
        kind = Rename
        set_extra = {TAG_SOURCE: d.source}
    if kind is Update and (not job.active or (
            remote == wanted and same_mutable(job.detail or {}, d.request))):
        out.unchanged.append(d.name)  # in sync; or finished, where edits are not attempted
        return
    fields, diff, note = _mutable_change(d, job) if job.active else ({}, [], None)
    if note:
        out.notes.append(note)
    tag_diff = [] if remote == wanted else attributed([
        FieldChange(f"tags.{k}", remote.get(k), wanted.get(k))
        for k in sorted(set(remote) | set(wanted)) if remote.get(k) != wanted.get(k)],
        d.valid.defaults_from)
    if not fields and not tag_diff and kind is Update:
        out.unchanged.append(d.name)
        return
    set_tags = {k: v for k, v in wanted.items() if remote.get(k) != v}
    if fields:
        set_tags[TAG_MUTABLE_HASH] = d.mutable_hash  # what the job now has of git's
    if kind is not Update:
        set_tags.update({TAG_PROJECT: d.project, TAG_NAME: d.name,
                         TAG_SPEC_HASH: d.spec_hash, **set_extra})
    remove = tuple(sorted(k for k in remote if k not in wanted))
    target = ref(job)
    all_diff = tuple(diff + tag_diff)
    if kind is Rename:
        out.actions.append(Rename(d, target, fields, set_tags, remove, all_diff,
                                  old_name=job.name or ""))
    elif kind is Adopt:
        out.actions.append(Adopt(d, target, fields, set_tags, remove, all_diff))
    else:
        out.actions.append(Update(d, target, fields, set_tags, remove, all_diff))


def _mutable_change(d: DesiredJob, job: RemoteJob
                    ) -> tuple[dict[str, object], list[FieldChange], str | None]:
    """UpdateJob's fields, their diff, and a note for fields UpdateJob cannot clear."""
    detail = job.detail or {}
    if same_mutable(detail, d.request):
        return {}, [], None  # equal as they stand, so equal once normalised
    before, after = job.mutable, d.mutable
    note = None
    cleared = sorted(k for k in before if k not in after)
    if cleared:
        # UpdateJob sets fields; it has no way to unset one.
        note = (f"{job.job_id}: {', '.join(cleared)} left the manifest, but UpdateJob cannot "
                "clear a field; it stays on the job until a new revision")
        before = {k: v for k, v in before.items() if k not in cleared}
    if before == after:
        return {}, [], note
    fields = {k: v for k, v in after.items() if before.get(k) != v}
    return fields, explain_change(d, before, after), note
