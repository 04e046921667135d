"""The sandbox folder's lock, shared by the ``--sandbox`` commands and ``sandbox serve``.

A command holds it from load to save, so two commands take turns. A server holds it for
its whole life (its jobs live in memory until it stops), and says so in the folder's
``server`` file: a command or a second server that finds the lock held by a server is
refused at once, naming it, rather than waiting for a server that may never stop.
The ``server`` file is read only while the lock is held by someone else: one left behind
by a server that was killed is stale, and the next holder removes it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from engine.errors import ConfigError

LOCK_FILE = "lock"
SERVER_FILE = "server"
POLL_SECONDS = 0.05


class SandboxBusy(ConfigError):
    """A server holds the sandbox folder."""


def acquire(folder: Path, *, server: str | None = None) -> IO[str]:
    """Take ``folder``'s lock, waiting while a command holds it; refuse (``SandboxBusy``)
    where a server holds it. With ``server`` (the server's URL), the holder is a server:
    the folder says so until ``release``. Returns the open lock file to pass to ``release``."""
    handle = (folder / LOCK_FILE).open("w")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _server_at(folder)
                if holder is not None:
                    raise SandboxBusy(
                        f"the sandbox {folder} is in use by rollouts sandbox serve "
                        f"({holder}): talk to that server with --endpoint-url instead, or "
                        "stop it first") from None
                time.sleep(POLL_SECONDS)
        if server is not None:
            announce(folder, server)
        else:
            (folder / SERVER_FILE).unlink(missing_ok=True)  # a killed server's: stale
    except BaseException:
        handle.close()
        raise
    return handle


def announce(folder: Path, server: str) -> None:
    """Say in ``folder`` which server holds its lock (its URL, once it listens)."""
    (folder / SERVER_FILE).write_text(f"at {server}, pid {os.getpid()}\n", encoding="utf-8")


def release(folder: Path, handle: IO[str], *, server: bool = False) -> None:
    """Give ``folder``'s lock back (a server's also stops saying it serves the folder)."""
    if server:
        (folder / SERVER_FILE).unlink(missing_ok=True)
    handle.close()


@contextmanager
def held(folder: Path) -> Iterator[None]:
    """A command's hold of ``folder``'s lock (see ``acquire``)."""
    handle = acquire(folder)
    try:
        yield
    finally:
        release(folder, handle)


def _server_at(folder: Path) -> str | None:
    try:
        text = (folder / SERVER_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
