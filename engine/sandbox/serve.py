"""``rollouts sandbox serve``: the sandbox's simulated AWS as a local HTTP endpoint.

A moto server (IoT with the project's Jobs additions, the Resource Groups Tagging API,
STS, S3 and CloudWatch) in this process, for ``--endpoint-url`` and for a user's own boto3
tests. Requests are served one at a time (moto's backends are not made for concurrent
writers), and so are the devices' steps: with ``step_seconds``, every active job's devices
make one step of progress that often, as ``status --sandbox`` makes them on each look.

With a state folder, the IoT jobs are loaded from its ``state.json`` at start and saved
there when the server stops (the format of ``.rollouts-sandbox/``, so a served sandbox
can continue one that ``--sandbox`` made, and back). The server holds the folder's lock
all along: a second server or a ``--sandbox`` command on it is refused meanwhile, since
either would save over the other's jobs. S3 objects and alarms live only as long as the
server.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.errors import ConfigError
from engine.sandbox import lock

STATE_FILE = "state.json"


class ServeError(ConfigError):
    """The endpoint cannot start (a port in use, a state folder that cannot be used)."""


@dataclass
class _Serialised:
    """A WSGI app that handles one request at a time, under the lock the devices share."""

    app: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            # The whole body is made under the lock: moto builds it before returning.
            return list(self.app(environ, start_response))


@dataclass
class Endpoint:
    """A running endpoint: its URL, and how to stop it."""

    url: str
    server: Any
    thread: threading.Thread
    app: _Serialised
    state: Path | None
    stepper: threading.Thread | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    # Ends the sandbox's group sizes (moto_groups.hold_sizes) when the server stops.
    release_groups: Callable[[], None] | None = None
    # The state folder's lock, held from start to stop (engine/sandbox/lock.py).
    lock: IO[str] | None = None

    def stop(self) -> int:
        """Stop serving; save the jobs to the state folder, if any. Returns how many jobs
        were saved."""
        self.stopping.set()
        self.server.shutdown()
        self.thread.join()
        if self.release_groups is not None:
            self.release_groups()
        if self.stepper is not None:
            self.stepper.join()
        self.server.server_close()
        if self.state is None:
            return 0
        try:
            with self.app.lock:
                return save_state(self.state)
        finally:
            if self.lock is not None:
                lock.release(self.state, self.lock, server=True)


def load_state(folder: Path) -> int:
    """Put the jobs saved in ``folder`` into this process's simulated account; how many.
    The caller holds the folder's lock."""
    from engine.sandbox.runtime import ACCOUNT, DamagedSandbox, _load_state
    from engine.sandbox.state import import_jobs

    path = folder / STATE_FILE
    if not path.exists():
        return 0
    saved = _load_state(path)
    count = 0
    for region, records in saved.get("regions", {}).items():
        try:
            import_jobs(records, ACCOUNT, region)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DamagedSandbox(f"the sandbox's state {path} is damaged (a job of {region}: "
                                 f"{exc!r}); delete it to start afresh") from exc
        count += len(records)
    return count


def save_state(folder: Path) -> int:
    """Write this process's simulated jobs to ``folder``'s state file; how many. The caller
    holds the folder's lock."""
    import json
    import os
    import tempfile

    from moto.iot.models import iot_backends

    from engine.sandbox.runtime import ACCOUNT
    from engine.sandbox.state import export_jobs

    regions = {region: export_jobs(ACCOUNT, region)
               for region in list(iot_backends[ACCOUNT].keys())}
    kept = {r: jobs for r, jobs in regions.items() if jobs}
    body = {"version": 1, "regions": kept}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".state-")
    with os.fdopen(fd, "w") as handle:
        json.dump(body, handle, indent=1, default=str)
    os.replace(tmp, folder / STATE_FILE)
    return sum(len(jobs) for jobs in kept.values())


def _step_devices(app: _Serialised, every: float, stopping: threading.Event) -> None:
    from moto.iot.models import iot_backends

    from engine.sandbox import devices
    from engine.sandbox.runtime import ACCOUNT, clock, failing_groups

    while not stopping.wait(every):
        with app.lock:
            for region in list(iot_backends[ACCOUNT].keys()):
                devices.simulate_step(ACCOUNT, region, now=clock(), failing=failing_groups())


def _probe(host: str, port: int) -> None:
    """Raise OSError where ``host:port`` cannot be listened on."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _cannot_listen(host: str, port: int, exc: OSError) -> ServeError:
    """Why ``host:port`` cannot be listened on, naming what to change."""
    import socket

    said = exc.strerror or str(exc)
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return ServeError(f"cannot listen on --host {host!r}: {said}; give an address of "
                          "this machine, such as 127.0.0.1 (the default) or ::1")
    return ServeError(f"cannot listen on {host}:{port}: {said}; choose another --port (0 "
                      "picks a free one)")


def url_of(host: str, port: int) -> str:
    """The endpoint's URL (an IPv6 address in brackets, as URLs write it)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start(*, host: str = "127.0.0.1", port: int = 0, state: Path | None = None,
          step_seconds: float = 0.0) -> Endpoint:
    """Start the endpoint in background threads (port 0: a free one) and return it."""
    held = None
    if state is not None:
        if state.exists() and not state.is_dir():
            raise ServeError(f"--state {state} is a file; name a folder")
        state.mkdir(parents=True, exist_ok=True)
        (state / ".gitignore").write_text("*\n")
        held = lock.acquire(state, server=f"{host}:{port}, starting")
    try:
        endpoint = _start(host, port, state, step_seconds)
    except BaseException:
        if state is not None and held is not None:
            lock.release(state, held, server=True)
        raise
    if state is not None and held is not None:
        endpoint.lock = held
        lock.announce(state, endpoint.url)
    return endpoint


def _start(host: str, port: int, state: Path | None, step_seconds: float) -> Endpoint:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from engine.sandbox import moto_groups, moto_jobs

    moto_jobs.install()
    if state is not None:
        load_state(state)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = _Serialised(DomainDispatcherApplication(create_backend_app))
    try:
        _probe(host, port)  # werkzeug would print its own words and exit
        server = make_server(host, port, app, threaded=True,
                             request_handler=MotoRequestHandler)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from exc
    thread = threading.Thread(target=server.serve_forever, name="sandbox-serve", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    shown = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
    endpoint = Endpoint(url_of(shown, bound_port), server, thread, app, state)
    # Its thing groups hold the devices its jobs count, as the sandbox's do.
    endpoint.release_groups = moto_groups.hold_sizes(moto_jobs.DEVICES_PER_GROUP)
    if step_seconds > 0:
        endpoint.stepper = threading.Thread(
            target=_step_devices, args=(app, step_seconds, endpoint.stopping),
            name="sandbox-devices", daemon=True)
        endpoint.stepper.start()
    return endpoint


def serve(*, host: str, port: int, state: Path | None, step_seconds: float,
          ready: Callable[[Endpoint], None]) -> int:
    """Serve until SIGINT or SIGTERM; ``ready`` is told the endpoint once it listens.
    Returns the number of jobs saved to ``state`` when it stopped."""
    import signal

    endpoint = start(host=host, port=port, state=state, step_seconds=step_seconds)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ready(endpoint)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        saved = endpoint.stop()
    return saved
