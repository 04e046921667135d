"""``sandbox serve``: the sandbox's simulated AWS as a local endpoint."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli.common import errors_to_exit, main

if TYPE_CHECKING:
    from engine.sandbox.serve import Endpoint

STEP_MAX = 86_400.0  # a day: beyond, the devices as good as never move


@main.group()
def sandbox() -> None:
    """The simulated AWS IoT that --sandbox uses, for other programs."""


@sandbox.command()
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port to listen on (0: a free one, printed).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default).")
@click.option("--state", type=click.Path(),
              help="Folder to load the jobs from at start and save them to at stop "
                   "(.rollouts-sandbox keeps the --sandbox commands' jobs).")
@click.option("--step", "step_seconds", type=click.FloatRange(min=0, max=STEP_MAX),
              default=0.0, show_default=True,
              help="Seconds between two steps of the simulated devices, at most a day (0: "
                   "they do not move; as status --sandbox, each step starts and finishes "
                   "some).")
def serve(port: int, host: str, state: str | None, step_seconds: float) -> None:
    """Serve the sandbox as an AWS endpoint: IoT (with the Jobs behaviour stock moto
    lacks), Resource Groups Tagging, STS, S3 and CloudWatch.

    The first line on stdout is the endpoint's URL, for --endpoint-url or
    AWS_ENDPOINT_URL (any access key works; the account is 123456789012). SIGINT or
    SIGTERM stop it, exit 0, after saving the jobs to --state.
    """
    from engine.sandbox.serve import serve as run

    if state is not None and not state.strip():
        raise click.BadParameter("is empty; name a folder, such as .rollouts-sandbox",
                                 param_hint="--state")
    if math.isnan(step_seconds):
        raise click.BadParameter("is not a number; give seconds, such as 2 (0: the devices "
                                 "do not move)", param_hint="--step")
    if not host.strip():
        raise click.BadParameter("is empty; give an address of this machine, such as "
                                 "127.0.0.1", param_hint="--host")

    def ready(endpoint: Endpoint) -> None:
        click.echo(endpoint.url)
        sys.stdout.flush()
        click.echo(f"Serving the sandbox at {endpoint.url} (account 123456789012); try "
                   f"rollouts plan --endpoint-url {endpoint.url}, or AWS_ENDPOINT_URL="
                   f"{endpoint.url} for boto3. Ctrl-C stops it.", err=True)

    with errors_to_exit("text"):
        folder = Path(state) if state is not None else None
        saved = run(host=host, port=port, state=folder, step_seconds=step_seconds,
                    ready=ready)
        click.echo(f"Stopped{f'; {saved} job(s) saved in {state}' if state else ''}.",
                   err=True)
    sys.exit(0)
