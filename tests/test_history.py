"""History: what the ledger says of a project, keyed by account, region and jobId."""

from __future__ import annotations

from engine.history import History
from engine.ledger import LedgerRecord

PROD, STAGING, REGION = "111122223333", "444455556666", "eu-west-1"


def _record(event: str, job_id: str, account: str | None, **extra: str) -> LedgerRecord:
    return LedgerRecord(event, job_id, "fw", "h" * 64, REGION, "2026-01-01T00:00:00+00:00",
                        "acme", account, **extra)


def test_history__record_of_one_account__id_free_in_another() -> None:
    """A jobId the ledger holds in prod is free in staging."""
    history = History.of("acme", [_record("create", "fw-x", PROD),
                                  _record("cancel", "fw-x", PROD)])
    assert history.holds(REGION, "fw-x", PROD)
    assert not history.holds(REGION, "fw-x", STAGING)
    assert history.applied("fw", "h" * 64, STAGING, REGION) is None


def test_history__record_of_no_account__is_the_default_accounts() -> None:
    """A first-version record (no account) is of the starting credentials' account."""
    history = History.of("acme", [_record("create", "fw-x", None)], account=PROD)
    assert history.created(REGION, "fw-x", PROD)
    assert not history.created(REGION, "fw-x", STAGING)
    assert history.applied("fw", "h" * 64, PROD, REGION) == "fw-x"
    assert history.applied("fw", "h" * 64, STAGING, REGION) is None


def test_history__end_record_only__counts_as_applied_unless_the_tool_canceled_it() -> None:
    """A job known only by its end record is applied; one the tool canceled is not."""
    done = History.of("acme", [_record("end", "fw-x", PROD, status="COMPLETED")])
    assert done.applied("fw", "h" * 64, PROD, REGION) == "fw-x"
    canceled = History.of("acme", [_record("end", "fw-x", PROD, status="CANCELED",
                                           reason="ROLLOUTS")])
    assert canceled.applied("fw", "h" * 64, PROD, REGION) is None
