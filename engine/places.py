"""Reading every place (account, region) a plan covers, and what the reads teach the ledger.

``read_places`` runs, for each place at once and with the place's own client: the bulk
reads (``engine.remote.list_region``), probes of the jobIds a create would use, the tags
and details the rollout layer asks for (``engine.rollouts``), and the alarms of gates; it
returns the rollout layer's view of each place. ``ended_records`` are the ledger records of
the project's finished jobs whose end these reads learnt: apply writes them, so no plan
reads a finished job twice (DESIGN.md 5).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

from engine.accounts import Place
from engine.aws import IotApi
from engine.desired import DesiredJob
from engine.facts import ACTIVE, ENDED, TAG_SPEC_HASH
from engine.history import History
from engine.ledger import LedgerRecord
from engine.remote import (
    KnownEnd,
    RemoteState,
    list_region,
    probe,
    read_details,
    read_running_tags,
    reread_tags,
)
from engine.rollouts import (
    Region,
    details_needed,
    gate_alarms,
    group,
    ids_to_probe,
    tags_to_confirm,
)


def read_places(project: str, desired: list[DesiredJob], apis: dict[str, IotApi],
                places: dict[str, Place], history: History | None, scope: str,
                elsewhere: frozenset[str]) -> list[Region]:
    """Every place's jobs (``apis`` and ``places`` by place key), all places at once; then
    the jobIds to probe and the details the rollout layer needs, place by place. Orphans
    only within ``scope``, and none of a rollout git holds ``elsewhere``."""

    def read(key: str) -> Region:
        api, place = apis[key], places[key]
        region = place.region
        here = [d for d in desired if d.where == key]
        known = ([r.job_id for r in history.records if r.region == region
                  and history.of_account(r, place.account)] if history is not None else [])
        ends = {} if history is None else {
            job_id: KnownEnd(r.status or ENDED, r.created_at or "", r.updated_at or "",
                             r.reason or "")
            for job_id, r in history.ends(region, place.account).items()}
        state: RemoteState = replace(
            list_region(api, project, names={d.name for d in here},
                        ids={d.job_id for d in here}, known=known, ends=ends,
                        canceled=[] if history is None else history.canceled_ids(
                            region, place.account), where=key),
            account=place.account, alias=place.alias)
        grouped = group(project, desired, state, scope, elsewhere)
        # Before a job is created: who holds its jobId, where the bulk reads did not say.
        for _ in range(5):
            todo = ids_to_probe(grouped, history)
            if not todo:
                break
            state = probe(api, state, todo)
            grouped = group(project, desired, state, scope, elsewhere)
        # Jobs whose tags were read one by one already (not from the bulk answer).
        fresh = state.read_one_by_one
        if any(not r.jobs and not r.revision() for r in grouped.rollouts):
            state = read_running_tags(api, state)  # something may be created: look first
            grouped = group(project, desired, state, scope, elsewhere)
        drifted = [j for j in tags_to_confirm(grouped) if j not in set(fresh)]
        if drifted:
            state = reread_tags(api, state, drifted)
            grouped = group(project, desired, state, scope, elsewhere)
        # A detail read may show what asks for another (a first-version job found to be an
        # earlier revision, whose document then explains the replace): a second round.
        for _ in range(3):
            needs = details_needed([grouped]).get(key, {})
            if not needs:
                break
            state = read_details(api, state, needs)
            grouped = group(project, desired, state, scope, elsewhere)
        alarms = gate_alarms(grouped)
        return replace(grouped, alarms=api.alarm_states(alarms)) if alarms else grouped

    with ThreadPoolExecutor(max_workers=max(1, len(apis))) as pool:
        return list(pool.map(read, sorted(apis)))


def ended_records(project: str, regions: list[Region],
                  history: History | None) -> list[LedgerRecord]:
    """Ledger records of the project's jobs whose end this plan read and the ledger lacks."""
    if history is None:
        return []
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = []
    for region in regions:
        account = region.state.account
        recorded = history.ends(region.region, account)
        for job in region.state.jobs.values():
            if job.project != project or job.detail is None or job.job_id in recorded \
                    or job.status in ACTIVE or job.status == ENDED:
                continue
            out.append(LedgerRecord(
                "end", job.job_id, job.name or "", job.tag(TAG_SPEC_HASH) or "unknown",
                region.region, now, project, account, reason=str(
                    job.detail.get("reasonCode") or ""),
                status=job.status, created_at=job.created_at, updated_at=job.last_updated))
    return sorted(out, key=lambda r: (r.region, r.job_id))
