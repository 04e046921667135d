"""Accounts: which AWS account each job runs in, and the clients that reach it (DESIGN.md 10).

A job without ``account:`` runs in the account of the credentials the tool starts with; a
job with ``account: ALIAS`` in the account declared under ``accounts:`` in
``_config.yaml``, reached by assuming that account's role from the starting credentials
(in CI, GitHub's OIDC role: the hub). The identity each role gives is checked against the
declared id before anything is read or written: a role that lands elsewhere refuses the
whole run (``AccountMismatch``).

A *place* is one (account, region) pair: each is read, planned and applied with its own
clients, so its own rate limits. Its key (``place_key``) is the region for the starting
account, so a single-account project's plans read as they always did, and ``ALIAS/REGION``
for a declared account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from engine.aws import AwsError, Connection, IotApi
from engine.errors import ConfigError
from engine.schema.models import Account


def place_key(alias: str | None, region: str) -> str:
    """The key of a place: its region in the starting account, else ``ALIAS/REGION``."""
    return region if alias is None else f"{alias}/{region}"


@dataclass(frozen=True)
class Place:
    """One (account, region) pair the project's jobs live in."""

    alias: str | None  # None: the account of the starting credentials
    account: str
    region: str

    @property
    def key(self) -> str:
        return place_key(self.alias, self.region)


class AccountMismatch(ConfigError):
    """A declared account's role gave the identity of another account."""


@dataclass
class Accounts:
    """The starting account and each declared one, with a connection that reaches it."""

    home: str  # the starting credentials' account id
    ids: dict[str, str]  # alias -> account id, as declared
    connections: dict[str | None, Connection]  # alias (None: starting) -> connection
    checks: list[IotApi] = field(default_factory=list)  # the clients that checked each one

    def account_of(self, alias: str | None) -> str:
        return self.home if alias is None else self.ids[alias]

    def alias_of(self, account: str) -> str | None:
        """The alias a ledger record's account id is planned under (None: the starting
        account; an id no longer declared is not read)."""
        if account == self.home:
            return None
        return next((a for a, i in self.ids.items() if i == account), "")

    def place(self, alias: str | None, region: str) -> Place:
        return Place(alias, self.account_of(alias), region)


def connect(connection: Connection, home: IotApi,
            declared: Mapping[str, Account]) -> Accounts:
    """Assume every declared account's role from ``home``'s credentials (its planRoleArn,
    where set, for a run that only reads) and check the
    identity each gives against the declared id, concurrently; AccountMismatch names every
    role that landed elsewhere (before anything else is read, and nothing is written)."""
    def role(alias: str) -> str:
        account = declared[alias]
        return (account.planRoleArn or account.roleArn) if connection.reads_only \
            else account.roleArn

    def assume(alias: str) -> tuple[str, Connection, IotApi]:
        try:
            credentials = home.assume_role(role(alias), alias)
        except AwsError as exc:
            raise AwsError("AssumeRole", exc.aws_code,
                           f"cannot assume {role(alias)} (account {alias}): {exc}; the "
                           "starting role needs sts:AssumeRole on it (iam/plan-policy.json, "
                           "iam/apply-policy.json) and the role must trust the starting "
                           "role (iam/account-role-trust.json)") from exc
        reached = replace(connection, credentials=credentials)
        check = IotApi(replace(reached, region=home.region))
        check.account()
        return alias, reached, check

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(declared)))) as pool:
        done = list(pool.map(assume, sorted(declared)))
    wrong = [f"{alias}: role {role(alias)} gave account {check.account()}, not "
             f"the declared {declared[alias].id}" for alias, _, check in done
             if check.account() != declared[alias].id]
    if wrong:
        raise AccountMismatch("refused: a role landed in another account than declared ("
                              + "; ".join(wrong) + "); nothing was read or written: correct "
                              "the id or the roleArn under accounts: in _config.yaml")
    return Accounts(home.account(), {a: declared[a].id for a in declared},
                    {None: connection, **{alias: reached for alias, reached, _ in done}},
                    [check for _, _, check in done])


def regions_by_alias(job_places: Iterable[tuple[str | None, str]], default_region: str,
                     declared: Iterable[str], extra_regions: Iterable[str],
                     has_home_jobs: bool) -> dict[str | None, set[str]]:
    """The regions to read in each account: those of its jobs, the default region and
    ``regions:`` of _config.yaml (the starting account's only where jobs run there, or no
    account is declared)."""
    out: dict[str | None, set[str]] = {}
    declared = list(declared)
    for alias, region in job_places:
        out.setdefault(alias, set()).add(region)
    homes: list[str | None] = [None] if has_home_jobs or not declared else []
    for alias in [*homes, *declared]:
        out.setdefault(alias, set()).update({default_region, *extra_regions})
    return out
