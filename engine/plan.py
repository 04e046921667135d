"""The plan: what brings each rollout to git's revision, built without reading or writing.

``build_plan`` takes the rollout layer's view of each region (``engine.rollouts``) and the
ledger's history, and returns data. The invariant it restores: for each rollout at most one
revision is active, and it is git's (DESIGN.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from engine.actions import (
    Action,
    Adopt,
    Cancel,
    Conflict,
    Create,
    Halt,
    JobRef,
    Rename,
    Replace,
    Update,
)
from engine.desired import DesiredJob
from engine.diff import FieldChange, attributed, explain
from engine.facts import (
    COMPLETED,
    TAG_MUTABLE_HASH,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SOURCE,
    TAG_SPEC_HASH,
)
from engine.history import History
from engine.remote import RemoteJob
from engine.rollouts import (
    Region,
    Rollout,
    finished_state,
    renamed_from,
    same_revision,
    swapped,
    wave_lives,
)
from engine.schema.rules import clock_findings
from engine.spec import as_compared_to, compared_tags, readable, same_mutable
from engine.waves import WaveStep, stand

SUMMARY_KEYS = ("create", "update", "replace", "rename", "adopt", "cancel", "halt")


@dataclass(frozen=True)
class Orphan:
    """An active job of the project whose rollout is not in git (in its region)."""

    name: str
    job_id: str
    region: str
    source: str | None


@dataclass(frozen=True)
class Unrecorded:
    """A job of git's revision that AWS holds and the ledger lacks (an apply cut short
    between CreateJob and its record): apply records it, so no record is lost for good."""

    job: DesiredJob
    job_id: str


@dataclass(frozen=True)
class Plan:
    project: str
    actions: tuple[Action, ...]
    unchanged: tuple[str, ...]
    notes: tuple[str, ...]
    orphans: tuple[Orphan, ...] = ()
    errors: tuple[str, ...] = ()
    unrecorded: tuple[Unrecorded, ...] = ()
    # region -> jobId -> status@lastUpdatedAt of every remote job the actions depend on
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)
    waves: tuple[WaveStep, ...] = ()  # where each rollout in waves stands

    @property
    def changes(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if not isinstance(a, Conflict))

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(isinstance(a, Conflict) for a in self.actions)

    @property
    def has_changes(self) -> bool:
        """What ``--detailed-exitcode`` reports: changes to make, or orphans to see."""
        return bool(self.changes or self.orphans)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SUMMARY_KEYS, 0)
        counts["orphaned"] = len(self.orphans)
        counts["unchanged"] = len(self.unchanged)
        counts["conflict"] = 0
        for action in self.actions:
            counts[action.verb] += 1
        return counts


@dataclass
class _Out:
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

    def seen(self, job: RemoteJob, region: str) -> None:
        jobs = self.fingerprints.get(region)
        if jobs is None:
            jobs = self.fingerprints[region] = {}
        jobs[job.job_id] = job.fingerprint


def build_plan(project: str, regions: list[Region], history: History | None, *,
               prune: bool = False, now: datetime | None = None) -> Plan:
    """Decide what to do for every rollout of every region; pure. ``history`` is None
    where no ledger is set."""
    out = _Out()
    for region in regions:
        orphans = list(region.orphans)
        finished = list(region.finished_elsewhere)
        claims = swapped(region)
        claimed = frozenset(job.job_id for job in claims.values())
        waved: dict[str, list[Rollout]] = {}
        for rollout in region.rollouts:
            if rollout.desired.wave is not None:
                waved.setdefault(rollout.desired.name, []).append(rollout)
                continue
            _plan_rollout(rollout, orphans, finished, claims, claimed, history, now, out)
        for waves in waved.values():
            _plan_waves(waves, orphans, finished, region.alarms, history, now, out)
        for job in orphans:
            out.orphans.append(Orphan(job.name or "", job.job_id, region.region, job.source))
            if prune:
                out.seen(job, region.region)
                out.actions.append(Cancel(job.name or "", _ref(job),
                                          region.region, job.source, "prune"))
        if region.legacy_strays:
            ids = ", ".join(j.job_id for j in region.legacy_strays)
            out.notes.append(f"{len(region.legacy_strays)} active job(s) in {region.region} "
                             f"made by an earlier version of the tool (no {TAG_PROJECT} tag) "
                             f"belong to no rollout in git: {ids}; they are never pruned: "
                             "cancel them by hand, or add their manifests")
        out.notes.extend(region.state.notes)
    if out.orphans and not prune:
        out.notes.append(f"{len(out.orphans)} orphan(s): active jobs of this project whose "
                         "rollout is not in git; apply --prune (or prune: true in "
                         "_config.yaml) cancels them")
    if out.completed:
        out.notes.append(f"{out.completed} rollout(s) have completed: edits to their manifests "
                         "change nothing until a new revision (a change to the document or "
                         "targets, or rerun: N)")
    if out.unrecorded:
        shown = ", ".join(u.job_id for u in out.unrecorded[:5])
        more = ", ..." if len(out.unrecorded) > 5 else ""
        out.notes.append(f"{len(out.unrecorded)} job(s) in AWS are missing from the ledger "
                         f"({shown}{more}); apply records them")
    return Plan(project, tuple(out.actions), tuple(out.unchanged), tuple(out.notes),
                tuple(out.orphans), tuple(out.errors), tuple(out.unrecorded),
                out.fingerprints, tuple(out.waves))


def _plan_rollout(rollout: Rollout, orphans: list[RemoteJob], finished: list[RemoteJob],
                  claims: dict[str, RemoteJob], claimed: frozenset[str],
                  history: History | None, now: datetime | None, out: _Out) -> None:
    d = rollout.desired
    lives = rollout.lives
    if len(rollout.jobs) == 1 and lives and lives[0].active and not d.pinned:
        _keep(d, lives[0], history, out)  # the steady state: its one job runs git's revision
        return
    pinned = rollout.pinned
    if pinned is not None and same_revision(pinned, d) is False:
        out.seen(pinned, d.region)
        diff = _explain(d, readable(as_compared_to(pinned.spec or {}, d.spec)),
                        readable(d.spec))
        fields = tuple(sorted({c.path.split(".")[0].split("[")[0] for c in diff}))
        out.actions.append(Conflict(d, d.job_id, fields, tuple(diff)))
        return
    revision = rollout.revision()
    for pool in (orphans, finished):  # a pinned job renamed with its rollout is git's
        if pool:
            for job in revision:
                if job in pool:
                    pool.remove(job)
    others = rollout.others_active()
    if claimed:
        others = [j for j in others if j.job_id not in claimed]
    current = [j for j in revision if j.active]
    if current:
        keep = current[0]
        _keep(d, keep, history, out)
        if others or len(current) > 1:
            _make_way(d, [*others, *current[1:]], keep.job_id, out)
        return
    if revision:
        ended = finished_state(revision)
        if ended is not None:
            kind, job = ended
            _in_place(d, job, out)  # tags only, where it is adopted or renamed: it is finished
            sent = job.tag(TAG_MUTABLE_HASH)
            if sent is not None and sent != d.mutable_hash:
                out.notes.append(f"{d.name}: the manifest's mutable fields changed since "
                                 f"{job.job_id} ran; a finished job is not updated (add "
                                 "rerun: N to roll the rollout out again with them)")
            if kind == "completed" and not others and job is revision[0] and \
                    job.created_at >= max(j.created_at for j in rollout.candidates()):
                out.completed += 1
            else:
                out.notes.append(_finished_note(d, kind, job))
            _make_way(d, others, job.job_id, out)
            return
    # Git's revision is not running here: a job of a name that left git may run it.
    taken = claims.get(d.name) or renamed_from(d, orphans, finished)
    if taken is not None:
        for pool in (orphans, finished):
            if taken in pool:
                pool.remove(taken)
        _in_place(d, taken, out)
        _make_way(d, others, taken.job_id, out)
        return
    if not revision:
        applied = history.applied(d.name, d.spec_hash, d.account, d.region,
                                  d.job_id if d.pinned else None) if history else None
        if applied is not None and not rollout.held(applied):  # gone from AWS, truly
            out.unchanged.append(d.name)
            out.notes.append(f"{d.name}: {applied} is in the ledger but gone from AWS: already "
                             "applied, not re-created (add rerun: N to roll it out again)")
            _make_way(d, others, applied, out)
            return
    _create(rollout, revision, others, history, now, out)


def _keep(d: DesiredJob, job: RemoteJob, history: History | None, out: _Out) -> None:
    """Git's revision runs as ``job``: brought to the manifest in place, and recorded."""
    _in_place(d, job, out)
    if history is not None and job.project == d.project and not history.created(
            d.region, job.job_id):
        out.unrecorded.append(Unrecorded(d, job.job_id))


def _plan_waves(waves: list[Rollout], orphans: list[RemoteJob], finished: list[RemoteJob],
                alarms: dict[str, str], history: History | None, now: datetime | None,
                out: _Out) -> None:
    """A rollout in waves: its running waves in place, the next wave where the frontier's
    gate passed, a halt where it failed, and every other revision's jobs canceled."""
    waves, renamed = _renamed_waves(waves, orphans, finished)
    # Without a clock (a plan that checks no clock rules) no soak time has passed.
    at = stand(waves, alarms, now or datetime.min)
    steps = list(at.steps)
    actions, unchanged = len(out.actions), len(out.unchanged)
    ours = {r.desired.spec_hash for r in waves}
    others = [j for j in waves[0].jobs if j.active and j.tag(TAG_SPEC_HASH) not in ours]
    for d, job in at.running:
        _keep(d, job, history, out)
    for d, job in renamed:
        if not job.active:
            _in_place(d, job, out)  # a finished wave of the old name: retagged
    if at.after is not None:
        out.seen(at.after, waves[0].desired.region)
    create = at.create
    if create is not None and history is not None:
        applied = history.applied(create.name, create.spec_hash, create.account,
                                  create.region, None)
        rollout = waves[create.wave.index if create.wave else 0]
        if applied is not None and not rollout.held(applied):  # gone from AWS, truly
            out.notes.append(f"{create.name}: wave {create.wave.name if create.wave else ''} "
                             f"ran as {applied} (in the ledger, gone from AWS): already "
                             "applied, not created again (add rerun: N to roll it out again)")
            steps = [replace(s, state="done", reason="in the ledger, gone from AWS",
                             action=None) if s.desired is create else s for s in steps]
            create = None
    if create is not None:
        if create.wave is not None and create.wave.index == 0 and any(
                w.desired.wave and w.desired.wave.promoted for w in waves):
            out.notes.append(f"{create.name}: a new revision starts at its first wave; the "
                             "waves under promoted: stay approved for it (remove them to ask "
                             "for approval again)")
        _create(waves[create.wave.index if create.wave else 0], [], others, history, now, out)
    elif others:
        kept = at.running[0][1].job_id if at.running else "none"
        _make_way(waves[0].desired, others, kept, out)
    if at.halt is not None:
        d, job, reason = at.halt
        out.seen(job, d.region)
        out.actions.append(Halt(d, _ref(job), reason,
                                cancel=d.wave is not None and d.wave.on_failure == "cancel"
                                and job.active))
    out.waves.extend(steps)
    # One rollout, however many waves: unchanged once, and only if nothing is done to it.
    del out.unchanged[unchanged:]
    if len(out.actions) == actions:
        out.unchanged.append(waves[0].desired.name)


def _renamed_waves(waves: list[Rollout], orphans: list[RemoteJob], finished: list[RemoteJob]
                   ) -> tuple[list[Rollout], list[tuple[DesiredJob, RemoteJob]]]:
    """Waves whose job runs under a name that left git (the rollout renamed): taken over,
    as a plain rollout's job is, instead of rolled out again."""
    out, renamed = [], []
    for rollout in waves:
        taken = None if wave_lives(rollout) else renamed_from(rollout.desired, orphans,
                                                              finished)
        if taken is not None:
            for pool in (orphans, finished):
                if taken in pool:
                    pool.remove(taken)
            rollout = rollout._replace(lives=(taken,))
            renamed.append((rollout.desired, taken))
        out.append(rollout)
    return out, renamed


def _create(rollout: Rollout, revision: list[RemoteJob], others: list[RemoteJob],
            history: History | None, now: datetime | None, out: _Out) -> None:
    d = rollout.desired

    def taken(job_id: str) -> bool:
        return rollout.held(job_id) or (history is not None
                                        and history.holds(d.region, job_id))

    if d.pinned and taken(d.job_id):
        out.unchanged.append(d.name)
        out.notes.append(f"{d.name}: the pinned jobId {d.job_id} was used before (canceled "
                         "by this tool, or deleted); a jobId has one life: change the jobId "
                         "to roll it out again")
        _make_way(d, others, d.job_id, out)
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
            out.seen(job, d.region)
        newest = max(others, key=lambda j: j.created_at)
        out.actions.append(Replace(d, job_id, request,
                                   tuple(_ref(j) for j in others),
                                   tuple(_revision_diff(newest, d))))
    else:
        out.actions.append(Create(d, job_id, request))


def _ref(job: RemoteJob) -> JobRef:
    return JobRef(job.job_id, job.arn, job.tag(TAG_SPEC_HASH) or "unknown")


def _make_way(d: DesiredJob, others: list[RemoteJob], kept: str, out: _Out) -> None:
    """Cancel every other active revision: git's is ``kept``."""
    for job in others:
        out.seen(job, d.region)
        out.actions.append(Cancel(d.name, _ref(job), d.region,
                                  job.source, f"replace:{kept}"))


def _finished_note(d: DesiredJob, kind: str, job: RemoteJob) -> str:
    if kind == "completed":
        return (f"{d.name}: git's revision ran before as {job.job_id} ({COMPLETED}) and is "
                "not run again; add rerun: N to the manifest to roll it out again")
    return (f"{d.name}: git's revision {job.job_id} is {job.status}, stopped by a hand or by "
            "its abort criteria, and is not re-created; add rerun: N to the manifest to roll "
            "it out again")


def _revision_diff(old: RemoteJob, d: DesiredJob) -> list[FieldChange]:
    if old.spec is None:
        return []
    before = {**as_compared_to(old.spec, d.spec), **old.mutable}
    return _explain(d, readable(before), readable({**d.spec, **d.mutable}))


def _explain(d: DesiredJob, before: dict[str, object], after: dict[str, object]
             ) -> list[FieldChange]:
    """The field diffs of a job, each naming the _defaults.yaml its new value came from."""
    return attributed(explain(before, after), d.valid.defaults_from)


def _in_place(d: DesiredJob, job: RemoteJob, out: _Out) -> None:
    """Bring a job of git's revision to the manifest: its mutable fields (while it is
    active) and its tags. A job of another name of the project is a rename; one without
    this project's tags is adopted."""
    out.seen(job, d.region)
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
    target = _ref(job)
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
    return fields, _explain(d, before, after), note
