"""The rollout layer: git's revision of each rollout beside its jobs in AWS. Pure.

A rollout is ``(project, name)``; each of its jobs is a revision. Its jobs are found by the
tags ``rollouts:project`` and ``rollouts:name`` (and, for jobs made by the tool's first
version, which carry no project tag, by ``rollouts:name`` alone), never by parsing ids.
Which of them is git's revision is decided by content: the spec-hash tag where this
version wrote it, else the normalised immutable part read with DescribeJob and
GetJobDocument (``details_needed`` says which jobs need that read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from engine.desired import DesiredJob
from engine.facts import (
    COMPLETED,
    ENDED,
    TAG_CANCELED_BY,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SPEC_HASH,
)
from engine.history import History
from engine.remote import RemoteJob, RemoteState
from engine.spec import as_compared_to, compared_tags


def same_revision(job: RemoteJob, d: DesiredJob) -> bool | None:
    """Whether ``job`` runs ``d``'s revision; None until its details are read."""
    tags = job.tags or {}
    tagged = tags.get(TAG_SPEC_HASH)
    if tagged is not None and tags.get(TAG_PROJECT) == d.project:
        return tagged == d.spec_hash  # this version hashed its content
    if job.spec is None:
        return None
    return as_compared_to(job.spec, d.spec) == d.spec


def templated(d: DesiredJob) -> bool:
    return "jobTemplateArn" in d.request


class Rollout(NamedTuple):
    """One rollout of git in one region, with every job of it that AWS holds (a named
    tuple: a plan makes one per manifest, and a tuple is the cheapest immutable record)."""

    desired: DesiredJob
    jobs: tuple[RemoteJob, ...]  # this project's (or the first version's) jobs of this name
    pinned: RemoteJob | None  # the job holding a pinned jobId, whoever made it
    # Every job AWS holds in the region, by jobId (the region's own mapping, not a copy).
    region_ids: Mapping[str, RemoteJob] = MappingProxyType({})
    namesake: RemoteJob | None = None  # the job holding the derived jobId, whoever made it
    lives: tuple[RemoteJob, ...] = ()  # the jobs that run git's revision (see ``lives_of``)
    # For a wave's job: the spec hashes of the rollout's other waves (their jobs are git's).
    siblings: frozenset[str] = frozenset()

    def held(self, job_id: str) -> bool:
        """AWS holds ``job_id`` in the region, whoever made the job."""
        return job_id in self.region_ids

    def holder(self, job_id: str) -> RemoteJob | None:
        """The job AWS holds under ``job_id`` in the region, whoever made it."""
        return self.region_ids.get(job_id)

    def candidates(self) -> tuple[RemoteJob, ...]:
        """Every job that may be git's revision: the rollout's own, and a pinned id's."""
        if self.pinned is None or any(j.job_id == self.pinned.job_id for j in self.jobs):
            return self.jobs
        return (*self.jobs, self.pinned)

    def revision(self) -> list[RemoteJob]:
        """The jobs that run git's revision (every life of it), newest first."""
        return list(self.lives)

    def others_active(self) -> list[RemoteJob]:
        """Active jobs of the rollout that run another revision (for a pinned rollout, every
        active job but the pinned one)."""
        if len(self.jobs) <= len(self.lives) and not self.desired.pinned:
            return []  # every job of the rollout is a life of git's revision
        if self.desired.pinned:
            return [j for j in self.jobs if j.active and j.job_id != self.desired.job_id]
        return [j for j in self.jobs
                if j.active and same_revision(j, self.desired) is False
                and not (self.siblings and j.tag(TAG_SPEC_HASH) in self.siblings)]


@dataclass(frozen=True)
class Region:
    """Git's rollouts of one region and what AWS holds there for the project."""

    region: str
    rollouts: tuple[Rollout, ...]
    orphans: tuple[RemoteJob, ...]  # active project jobs whose rollout is not in git here
    legacy_strays: tuple[RemoteJob, ...]  # active first-version jobs of names not in git
    state: RemoteState
    # Finished project jobs of names not in git (completed, or stopped by a hand or an
    # abort): a rollout renamed after it finished is still finished.
    finished_elsewhere: tuple[RemoteJob, ...] = ()
    # CloudWatch alarm states the gates name (name -> state; a name absent: not found).
    alarms: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The key of its (account, region) place."""
        return self.state.where


def lives_of(d: DesiredJob, jobs: tuple[RemoteJob, ...],
             pinned: RemoteJob | None) -> tuple[RemoteJob, ...]:
    """The jobs that run ``d``'s revision, newest first. A pinned jobId is the revision's
    one life: only the job holding it, if its content is git's."""
    if d.pinned:
        return (pinned,) if pinned is not None and same_revision(pinned, d) else ()
    found = [j for j in jobs if same_revision(j, d)]
    if len(found) > 1:
        found.sort(key=lambda j: j.created_at, reverse=True)
    return tuple(found)


def in_scope(source: str | None, scope: str) -> bool:
    """A job whose manifest was under the planned folder (``scope``: its path in the repo,
    ending with ``/``, or empty for the whole repository)."""
    return not scope or (source or "").startswith(scope)


def group(project: str, desired: list[DesiredJob], state: RemoteState,
          scope: str = "", elsewhere: frozenset[str] = frozenset()) -> Region:
    """Git's rollouts in ``state``'s region with their jobs; orphans within ``scope``, but
    none of a rollout that git holds ``elsewhere`` (outside a planned subfolder)."""
    here = [d for d in desired if d.where == state.where]
    names = {d.name for d in here}
    by_name: dict[str, list[RemoteJob]] = {}
    orphans: list[RemoteJob] = []
    strays: list[RemoteJob] = []
    finished: list[RemoteJob] = []
    for job in state.jobs.values():
        tags = job.tags
        name = tags.get(TAG_NAME) if tags else None
        if name is None:
            continue  # not the tool's
        owner = tags.get(TAG_PROJECT) if tags else None
        if owner is not None and owner != project:
            continue  # another project's
        if name in names:
            by_name.setdefault(name, []).append(job)
        elif not in_scope(job.source, scope) or name in elsewhere:
            continue
        elif job.active:
            (strays if owner is None else orphans).append(job)
        elif owner is not None and not job.canceled_by_tool:
            finished.append(job)
    ids = state.jobs  # not a copy: the region may hold 100,000 jobs
    empty: tuple[RemoteJob, ...] = ()
    waves: dict[str, frozenset[str]] = {}
    for d in here:
        if d.wave is not None:
            waves[d.name] = waves.get(d.name, frozenset()) | {d.spec_hash}
    rollouts = []
    for d in here:
        jobs = _by_id(by_name[d.name]) if d.name in by_name else empty
        at_id = state.jobs.get(d.job_id)
        pinned = at_id if d.pinned else None
        rollout = Rollout(d, jobs, pinned, ids, None if d.pinned else at_id,
                          lives_of(d, jobs, pinned))
        if d.wave is not None:
            rollout = rollout._replace(siblings=waves[d.name] - {d.spec_hash})
        rollouts.append(rollout)
    return Region(state.region, tuple(rollouts), tuple(sorted(orphans, key=lambda j: j.job_id)),
                  tuple(sorted(strays, key=lambda j: j.job_id)), state,
                  tuple(sorted(finished, key=lambda j: j.job_id)))


def _by_id(jobs: list[RemoteJob]) -> tuple[RemoteJob, ...]:
    return tuple(jobs) if len(jobs) == 1 else tuple(sorted(jobs, key=lambda j: j.job_id))


def renamed_from(d: DesiredJob, *candidates: list[RemoteJob]) -> RemoteJob | None:
    """The job of a rollout whose name left git while its content stayed: git's rollout
    ``d`` under a new name (the running ones first, then the finished). Only this
    version's jobs qualify (the hash tag tells); a pinned jobId names its own job."""
    if d.pinned:
        return None
    for jobs in candidates:
        for job in jobs:
            if job.tag(TAG_SPEC_HASH) == d.spec_hash:
                return job
    return None


def swapped(region: Region) -> dict[str, RemoteJob]:
    """Running jobs that git now names otherwise, by the rollout that takes them over: a
    job of rollout B runs A's revision, and git's B wants another (two names swapped, or
    one rollout's content moved to another name). Each job is taken once."""
    # Rollouts that would create a job: git's revision neither runs nor ran to an end.
    takers = [r for r in region.rollouts
              if not r.desired.pinned and not any(j.active for j in r.lives)
              and not (r.lives and finished_state(list(r.lives)) is not None)]
    if not takers:
        return {}
    wanted = {r.desired.name: r.desired.spec_hash for r in region.rollouts}
    free = [job for r in region.rollouts for job in r.jobs
            if job.active and job.project == r.desired.project
            and job.tag(TAG_SPEC_HASH) != wanted[r.desired.name]]
    out: dict[str, RemoteJob] = {}
    for rollout in takers:
        d = rollout.desired
        for job in free:
            if job.tag(TAG_SPEC_HASH) == d.spec_hash and job.name != d.name:
                out[d.name] = job
                free.remove(job)
                break
    return out


def details_needed(regions: list[Region]) -> dict[str, dict[str, bool]]:
    """By place (``Region.where``): the jobs to DescribeJob, each with whether
    GetJobDocument is needed too.

    - a job whose content decides whether it is git's revision (a pinned id's job, a
      first-version job) and was not hashed by this version: both;
    - git's revision while active: DescribeJob, for the mutable fields to compare;
    - the newest other active revision: both, to show what a replace changes;
    - an orphan that a renamed rollout takes over: DescribeJob.
    """
    out: dict[str, dict[str, bool]] = {}
    for region in regions:
        needs: dict[str, bool] = {}
        for rollout in region.rollouts:
            d = rollout.desired
            for job in rollout.candidates():
                if same_revision(job, d) is None:
                    needs[job.job_id] = not templated(d)
            pinned = rollout.pinned
            if pinned is not None and same_revision(pinned, d) is False:
                needs[pinned.job_id] = not templated(d)  # a conflict names its fields
            current = [j for j in rollout.revision() if j.active]
            for job in current:
                needs.setdefault(job.job_id, False)
            if not current:  # a life the tool marked as its cancel: confirm who canceled it
                for job in rollout.revision():
                    if job.canceled_by_tool and job.end_unread:
                        needs.setdefault(job.job_id, False)
                for job in rollout.candidates():  # how each ended, and when it began
                    if job.status == ENDED:
                        needs.setdefault(job.job_id, False)
            others = rollout.others_active()
            if others and not current:
                newest = max(others, key=lambda j: j.created_at)
                needs[newest.job_id] = True
        for job in wave_frontiers(region):
            needs.setdefault(job.job_id, False)  # its gate is read from its progress
        orphans = list(region.orphans)
        for rollout in region.rollouts:
            if any(j.active for j in rollout.revision()):
                continue
            taken = renamed_from(rollout.desired, orphans)
            if taken is not None:
                orphans.remove(taken)
                needs.setdefault(taken.job_id, False)
        for job in swapped(region).values():
            needs.setdefault(job.job_id, False)
        out[region.where] = {k: v for k, v in needs.items() if _unread(region, k, v)}
    return out


def ids_to_probe(region: Region, history: History | None) -> set[str]:
    """JobIds whose holder a plan must know before it creates a job, and that the bulk
    reads did not show: a pinned jobId; the derived jobId (its next free life) of a rollout
    with no job in the tag index or among the active ones (another project's job, or one
    without tags, may hold it; a later wave's is created only once its first wave has a
    job); and every job the ledger names for such a rollout (a job of the tool's first
    version, or one the tag index has not caught up with)."""
    out: set[str] = set()
    for rollout in region.rollouts:
        d = rollout.desired
        if d.pinned:
            if rollout.pinned is None:
                out.add(d.job_id)
            continue
        if rollout.jobs or (d.wave is not None and d.wave.index > 0):
            continue
        life = 1
        while rollout.held(d.job_id_of_life(life)) or (
                history is not None and history.holds(d.region, d.job_id_of_life(life), d.account)):
            life += 1
        out.add(d.job_id_of_life(life))
        if history is not None:
            out |= {r.job_id for r in history.records
                    if r.name == d.name and r.region == d.region
                    and history.of_account(r, d.account)}
    state = region.state
    return {job_id for job_id in out if job_id not in state.jobs and job_id not in state.absent}


GATE_CANCEL = "gate:"  # the start of rollouts:canceled-by on a job its failed gate canceled


def wave_lives(rollout: Rollout) -> list[RemoteJob]:
    """A wave's jobs, newest first, less those the tool canceled for another revision (a
    revert rolls the wave out again); a job its own gate canceled stays: it halts."""
    return [j for j in rollout.lives if not j.canceled_by_tool
            or (j.tag(TAG_CANCELED_BY) or "").startswith(GATE_CANCEL)]


def wave_frontiers(region: Region) -> list[RemoteJob]:
    """For each rollout in waves: the newest job of its last wave that has one (the wave
    whose gate decides what comes next)."""
    frontier: dict[str, RemoteJob] = {}
    for rollout in region.rollouts:  # in wave order
        lives = wave_lives(rollout) if rollout.desired.wave is not None else []
        if lives:
            frontier[rollout.desired.name] = lives[0]
    return list(frontier.values())


def gate_alarms(region: Region) -> set[str]:
    """The CloudWatch alarms the gates of the region's rollouts in waves name."""
    return {name for rollout in region.rollouts if rollout.desired.wave is not None
            for name in rollout.desired.wave.gate.alarms}


def _unread(region: Region, job_id: str, document: bool) -> bool:
    job = region.state.jobs[job_id]
    return job.detail is None or (document and job.document is None)


def finished_state(jobs: list[RemoteJob]) -> tuple[str, RemoteJob] | None:
    """How git's finished revision ended, from its lives: ``completed``, ``stopped`` (by a
    hand, by its abort criteria, or being deleted) or None where the tool itself canceled
    every life (so it is rolled out again)."""
    for job in jobs:
        if job.status == COMPLETED:
            return "completed", job
    for job in jobs:
        if not job.canceled_by_tool:
            return "stopped", job
    return None



def tags_to_confirm(region: Region) -> list[str]:
    """Active jobs of git's revision whose tags, as the bulk read gave them, differ from
    the manifest's: read again one by one before an update is planned on them. So are
    jobs of names that left git running or having run a revision git holds under another
    name, before a rename is planned on them (the index may not show a rename done)."""
    changed = [job.job_id for rollout in region.rollouts for job in rollout.revision()
               if job.active and job.tags is not None
               and compared_tags(job.tags) != compared_tags(rollout.desired.tags)]
    hashes = {r.desired.spec_hash for r in region.rollouts
              if not r.desired.pinned and not r.lives}
    renamed = [job.job_id for job in (*region.orphans, *region.finished_elsewhere)
               if job.tags is not None and job.tag(TAG_SPEC_HASH) in hashes]
    return changed + renamed
