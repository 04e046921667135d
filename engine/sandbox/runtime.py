"""``--sandbox``: every command against an in-process simulated AWS IoT that persists.

The simulated account's jobs are saved in ``.rollouts-sandbox/`` at the repository root
after each command and loaded before the next, so a newcomer can apply, plan again and see
nothing to do, edit and see the diff, with no AWS account. The sandbox keeps its own ledger.
A command holds the sandbox's lock from load to save, so two commands at once (a
``status --watch`` beside an ``apply``) take turns and neither loses the other's jobs; one
is refused while ``sandbox serve`` serves the folder (``engine/sandbox/lock.py``).

The sandbox's clock is the wall clock (UTC), or ``ROLLOUTS_SANDBOX_NOW`` when set
(``YYYY-MM-DDTHH:MM``, UTC, as a job's ``startTime``): scheduled jobs start when it reaches
their ``startTime``, so a user can see one start without waiting for it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.ledger import FileLedger

SANDBOX_DIR = ".rollouts-sandbox"
ACCOUNT = "123456789012"
CLOCK_VARIABLE = "ROLLOUTS_SANDBOX_NOW"
FAIL_VARIABLE = "ROLLOUTS_SANDBOX_FAIL"


@dataclass(frozen=True)
class Sandbox:
    folder: Path
    ledger: FileLedger


class DamagedSandbox(ConfigError):
    """The sandbox's saved state cannot be read."""


def _load_state(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(saved, dict) or not isinstance(saved.get("regions", {}), dict):
            raise ValueError("not a saved sandbox")
        return saved
    except (OSError, ValueError) as exc:
        raise DamagedSandbox(f"the sandbox's state {path} is damaged ({exc}); delete "
                             f"{path.parent} to start the sandbox afresh") from exc


def clock() -> datetime | None:
    """The sandbox's time set by ``ROLLOUTS_SANDBOX_NOW`` (naive UTC); None: the wall clock."""
    from engine.schema.rules import parse_time

    text = os.environ.get(CLOCK_VARIABLE)
    if not text:
        return None
    now = parse_time(text)
    if now is None:
        raise ConfigError(f"{CLOCK_VARIABLE}={text!r}: write the sandbox's time as "
                          "YYYY-MM-DDTHH:MM (UTC), as a job's startTime")
    return now


def failing_groups() -> dict[str, float]:
    """``ROLLOUTS_SANDBOX_FAIL=GROUP=PERCENT[,GROUP=PERCENT...]``: the thing groups whose
    devices fail at that rate (to see a wave's gate fail); empty when it is not set."""
    text = os.environ.get(FAIL_VARIABLE, "").strip()
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        group, _, percent = part.partition("=")
        try:
            share = float(percent) / 100
        except ValueError:
            share = -1.0
        if not group or not 0 <= share <= 1:
            raise ConfigError(f"{FAIL_VARIABLE}={text!r}: write GROUP=PERCENT (0 to 100), "
                              "comma-separated, such as gw-ring1=30")
        out[group] = share
    return out


@contextmanager
def sandbox(repo_root: Path, *, simulate: bool = False) -> Iterator[Sandbox]:
    """Run the body against the simulated AWS; its jobs are saved when the body ends.

    With ``simulate``, the devices of every active job make one step of progress first,
    and scheduled jobs whose start time has come on the sandbox's clock start.
    """
    from moto import mock_aws
    from moto.iot.models import iot_backends

    from engine.sandbox import devices, lock, moto_groups, moto_jobs, state

    moto_jobs.install()
    now = clock() if simulate else None
    failing = failing_groups() if simulate else {}
    folder = repo_root / SANDBOX_DIR
    folder.mkdir(exist_ok=True)
    (folder / ".gitignore").write_text("*\n")  # never committed, whatever the repo ignores
    state_path = folder / "state.json"
    # Its thing groups hold the devices its jobs count, for the plan's reach as for status.
    # A server on the folder refuses the command at once (sandbox/lock.py).
    with lock.held(folder), mock_aws(), \
            moto_groups.sized_groups(moto_jobs.DEVICES_PER_GROUP):
        if state_path.exists():
            saved = _load_state(state_path)
            # The starting account's regions, then those of the accounts roles reach.
            places = [(ACCOUNT, region, records)
                      for region, records in saved.get("regions", {}).items()]
            places += [(account, region, records)
                       for account, regions in saved.get("accounts", {}).items()
                       for region, records in regions.items()]
            for account, region, records in places:
                try:
                    state.import_jobs(records, account, region)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise DamagedSandbox(f"the sandbox's state {state_path} is damaged (a job "
                                         f"of {region}: {exc!r}); delete {folder} to start "
                                         "the sandbox afresh") from exc
                if simulate:
                    devices.simulate_step(account, region, now=now, failing=failing)
        try:
            yield Sandbox(folder, FileLedger(folder / "ledger.json"))
        finally:
            jobs = {account: {r: found for r in list(iot_backends[account].keys())
                              if (found := state.export_jobs(account, r))}
                    for account in list(iot_backends.keys())}
            body: dict[str, Any] = {"version": 1, "regions": jobs.pop(ACCOUNT, {})}
            others = {account: regions for account, regions in jobs.items() if regions}
            if others:
                body["accounts"] = others
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".state-")
            with os.fdopen(fd, "w") as handle:
                json.dump(body, handle, indent=1, default=str)
            os.replace(tmp, state_path)
