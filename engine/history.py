"""What the ledger says of a project, as the plan asks it. Pure.

The ledger remembers jobs AWS may have forgotten (deleted, or purged 730 days after they
ended): which revisions were created, where, and which of their jobs the tool canceled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.facts import CANCEL_REASON_CODE, CANCELED

if TYPE_CHECKING:
    from engine.ledger import LedgerRecord


@dataclass(frozen=True)
class History:
    """The ledger's records of one project (and the first version's, which name none).

    Records are keyed by (account, region, jobId): a jobId is free in another account. A
    record that names no account (the first version's) is of ``account``, the starting
    credentials' account; where that is not given, of every account."""

    project: str
    records: tuple[LedgerRecord, ...] = ()
    account: str | None = None
    _ids: frozenset[tuple[str | None, str, str]] = field(init=False, repr=False,
                                                         compare=False)
    _canceled: frozenset[tuple[str | None, str, str]] = field(init=False, repr=False,
                                                              compare=False)
    _created: frozenset[tuple[str | None, str, str]] = field(init=False, repr=False,
                                                             compare=False)

    def __post_init__(self) -> None:
        mine = [r for r in self.records if r.project in (None, self.project)]
        object.__setattr__(self, "records", tuple(mine))
        object.__setattr__(self, "_ids", frozenset(map(self._key, mine)))
        object.__setattr__(self, "_canceled", frozenset(
            self._key(r) for r in mine if r.event == "cancel"))
        object.__setattr__(self, "_created", frozenset(
            self._key(r) for r in mine if r.event == "create"))

    @classmethod
    def of(cls, project: str, records: Iterable[LedgerRecord],
           account: str | None = None) -> History:
        return cls(project, tuple(records), account)

    def account_of(self, record: LedgerRecord) -> str | None:
        """The account of ``record``; None: any account (no default account known)."""
        return record.account or self.account

    def of_account(self, record: LedgerRecord, account: str | None) -> bool:
        """``record`` is of ``account`` (None: whichever)."""
        mine = self.account_of(record)
        return mine is None or account is None or mine == account

    def _key(self, record: LedgerRecord) -> tuple[str | None, str, str]:
        return self.account_of(record), record.region, record.job_id

    def _has(self, keys: frozenset[tuple[str | None, str, str]], region: str, job_id: str,
             account: str | None) -> bool:
        if account is None:
            return any(k[1:] == (region, job_id) for k in keys)
        return (account, region, job_id) in keys or (None, region, job_id) in keys

    def holds(self, region: str, job_id: str, account: str | None = None) -> bool:
        """The ledger names this job (so its id is not free, even if AWS forgot it)."""
        return self._has(self._ids, region, job_id, account)

    def created(self, region: str, job_id: str, account: str | None = None) -> bool:
        return self._has(self._created, region, job_id, account)

    def canceled_ids(self, region: str, account: str | None = None) -> set[str]:
        """The jobIds here the ledger says the tool canceled."""
        return {r.job_id for r in self.records if r.event == "cancel"
                and r.region == region and self.of_account(r, account)}

    def applied(self, name: str, spec_hash: str, account: str, region: str,
                pinned: str | None = None) -> str | None:
        """The jobId of a revision this project created here and the tool never canceled,
        or None: "already applied" even where AWS holds the job no longer. A pinned
        revision is its jobId: only a record of that id counts. An ``end`` record counts
        like a create (the ledger was lost, or an apply was cut short before it wrote the
        create, and a later apply recorded the job's end), unless the tool canceled it."""
        for r in self.records:
            if pinned is not None and r.job_id != pinned:
                continue
            if r.event == "end" and r.status == CANCELED and r.reason == CANCEL_REASON_CODE:
                continue  # the tool's own cancel, whose record was lost with the ledger
            if (r.event in ("create", "end") and r.name == name and r.spec_hash == spec_hash
                    and r.region == region and self.of_account(r, account)
                    and not self._has(self._canceled, region, r.job_id, account)):
                return r.job_id
        return None

    def ends(self, region: str, account: str | None = None) -> dict[str, LedgerRecord]:
        """How the project's jobs here ended, by jobId, as applies recorded it."""
        return {r.job_id: r for r in self.records
                if r.event == "end" and r.region == region
                and self.of_account(r, account) and r.status}

    def regions(self) -> set[str]:
        """Every region the project has had jobs in."""
        return {r.region for r in self.records if r.project == self.project}
