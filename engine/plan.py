"""The plan: what brings each rollout to git's revision, built without reading or writing.

``build_plan`` takes the rollout layer's view of each region (``engine.rollouts``) and the
ledger's history, and returns data. The invariant it restores: for each rollout at most one
revision is active, and it is git's (DESIGN.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from engine import changes
from engine.actions import (
    Action,
    Cancel,
    Conflict,
    Halt,
)
from engine.changes import Orphan, Out, Unrecorded
from engine.desired import DesiredJob
from engine.diff import FieldChange
from engine.facts import (
    COMPLETED,
    TAG_MUTABLE_HASH,
    TAG_PROJECT,
    TAG_SPEC_HASH,
)
from engine.history import History
from engine.remote import RemoteJob
from engine.review.figures import Review
from engine.rollouts import (
    Region,
    Rollout,
    finished_state,
    renamed_from,
    same_revision,
    swapped,
    wave_lives,
)
from engine.spec import as_compared_to, readable
from engine.waves import WaveStep, stand

SUMMARY_KEYS = ("create", "update", "replace", "rename", "adopt", "cancel", "halt")


@dataclass(frozen=True)
class Plan:
    project: str
    actions: tuple[Action, ...]
    unchanged: tuple[str, ...]
    notes: tuple[str, ...]
    orphans: tuple[Orphan, ...] = ()
    errors: tuple[str, ...] = ()
    unrecorded: tuple[Unrecorded, ...] = ()
    # place (region, or ALIAS/REGION) -> jobId -> status@lastUpdatedAt of every remote job
    # the actions depend on
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)
    waves: tuple[WaveStep, ...] = ()  # where each rollout in waves stands
    # Review figures by change and wave (engine.review.attach): informational, never saved.
    reviews: dict[str, Review] = field(default_factory=dict)

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


def build_plan(project: str, regions: list[Region], history: History | None, *,
               prune: bool = False, now: datetime | None = None) -> Plan:
    """Decide what to do for every rollout of every region; pure. ``history`` is None
    where no ledger is set."""
    out = Out()
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
            state = region.state
            out.orphans.append(Orphan(job.name or "", job.job_id, region.region, job.source,
                                      state.account, state.alias))
            if prune:
                out.seen(job, region.where)
                out.actions.append(Cancel(job.name or "", changes.ref(job), region.region,
                                          job.source, "prune", account=state.account,
                                          alias=state.alias))
        if region.legacy_strays:
            ids = ", ".join(j.job_id for j in region.legacy_strays)
            out.notes.append(f"{len(region.legacy_strays)} active job(s) in {region.where} "
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
                  history: History | None, now: datetime | None, out: Out) -> None:
    d = rollout.desired
    lives = rollout.lives
    if len(rollout.jobs) == 1 and lives and lives[0].active and not d.pinned:
        # The steady state: the rollout's one job runs git's revision.
        changes.keep(d, lives[0], history, out)
        return
    pinned = rollout.pinned
    if pinned is not None and same_revision(pinned, d) is False:
        out.seen(pinned, d.where)
        diff = changes.explain_change(d, readable(as_compared_to(pinned.spec or {}, d.spec)),
                        readable(d.spec))
        fields = tuple(sorted({c.path.split(".")[0].split("[")[0] for c in diff}))
        out.actions.append(Conflict(d, d.job_id, fields, tuple(diff)))
        return
    if pinned is not None and pinned.project not in (None, d.project):
        # Another project's job: never touched (DESIGN.md), so never adopted.
        out.seen(pinned, d.where)
        out.actions.append(Conflict(d, d.job_id, ("tags",), (FieldChange(
            f"tags.{TAG_PROJECT}", pinned.project, d.project),)))
        out.notes.append(f"{d.name}: the pinned jobId {d.job_id} is a job of project "
                         f"{pinned.project}, which this project never touches: pin another "
                         "jobId")
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
        kept = current[0]
        changes.keep(d, kept, history, out)
        if others or len(current) > 1:
            changes.make_way(d, [*others, *current[1:]], kept.job_id, out)
        return
    if revision:
        ended = finished_state(revision)
        if ended is not None:
            kind, job = ended
            changes.in_place(d, job, out)  # tags only, where adopted or renamed: it finished
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
            changes.make_way(d, others, job.job_id, out)
            return
    # Git's revision is not running here: a job of a name that left git may run it.
    taken = claims.get(d.name) or renamed_from(d, orphans, finished)
    if taken is not None:
        for pool in (orphans, finished):
            if taken in pool:
                pool.remove(taken)
        changes.in_place(d, taken, out)
        changes.make_way(d, others, taken.job_id, out)
        return
    if not revision:
        applied = history.applied(d.name, d.spec_hash, d.account, d.region,
                                  d.job_id if d.pinned else None) if history else None
        if applied is not None and not rollout.held(applied):  # gone from AWS, truly
            out.unchanged.append(d.name)
            out.notes.append(f"{d.name}: {applied} is in the ledger but gone from AWS: already "
                             "applied, not re-created (add rerun: N to roll it out again)")
            changes.make_way(d, others, applied, out)
            return
        holder = rollout.holder(applied) if applied is not None else None
        if holder is not None and holder.project not in (None, d.project):
            # AWS holds the job this project created, but not as this project's: another
            # project took it over. Creating the revision again would run it twice.
            out.unchanged.append(d.name)
            out.notes.append(f"{d.name}: {applied} is in the ledger and still in AWS, but "
                             f"tagged as project {holder.project}'s: not created again; give "
                             f"it back its {TAG_PROJECT} tag ({d.project}), or add rerun: N "
                             "to roll it out again")
            return
    changes.create(rollout, revision, others, history, now, out)


def _plan_waves(waves: list[Rollout], orphans: list[RemoteJob], finished: list[RemoteJob],
                alarms: dict[str, str], history: History | None, now: datetime | None,
                out: Out) -> None:
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
        changes.keep(d, job, history, out)
    for d, job in renamed:
        if not job.active:
            changes.in_place(d, job, out)  # a finished wave of the old name: retagged
    if at.after is not None:
        out.seen(at.after, waves[0].desired.where)
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
        changes.create(waves[create.wave.index if create.wave else 0], [], others, history,
                       now, out)
    elif others:
        kept = at.running[0][1].job_id if at.running else "none"
        changes.make_way(waves[0].desired, others, kept, out)
    if at.halt is not None:
        d, job, reason = at.halt
        out.seen(job, d.where)
        out.actions.append(Halt(d, changes.ref(job), reason,
                                cancel=d.wave is not None and d.wave.on_failure == "cancel"
                                and job.active))
    out.notes.extend(_stuck(steps))
    out.waves.extend(steps)
    # One rollout, however many waves: unchanged once, and only if nothing is done to it.
    del out.unchanged[unchanged:]
    if len(out.actions) == actions:
        out.unchanged.append(waves[0].desired.name)


def _stuck(steps: list[WaveStep]) -> list[str]:
    """Notes for a gate that waits on what cannot come: counts of a job that has finished,
    or an alarm CloudWatch does not have."""
    notes = []
    for step in steps:
        reading, job = step.reading, step.job
        if step.state != "waiting" or reading is None or job is None:
            continue
        wave = step.desired.wave.name if step.desired.wave else step.desired.name
        counts = [c for c in reading.conditions if not c.holds
                  and c.name in ("minSucceeded", "maxFailedPercent", "completed")]
        if counts and not job.active:
            notes.append(f"{step.desired.name}: the gate of wave {wave} can never pass: its "
                         f"job {job.job_id} is {job.status} ({counts[0].why}); change the "
                         "gate, or add rerun: N to roll the rollout out again")
        for c in reading.conditions:
            if c.name.startswith("alarm:") and c.have == "not found":
                notes.append(f"{step.desired.name}: the gate of wave {wave} waits for the "
                             f"CloudWatch alarm {c.name.removeprefix('alarm:')}, which this "
                             "account and region do not have")
    return notes


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


def _finished_note(d: DesiredJob, kind: str, job: RemoteJob) -> str:
    if kind == "completed":
        return (f"{d.name}: git's revision ran before as {job.job_id} ({COMPLETED}) and is "
                "not run again; add rerun: N to the manifest to roll it out again")
    return (f"{d.name}: git's revision {job.job_id} is {job.status}, stopped by a hand or by "
            "its abort criteria, and is not re-created; add rerun: N to the manifest to roll "
            "it out again")

