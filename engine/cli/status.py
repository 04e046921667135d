"""``status``: how far each rollout has got, once or until it settles."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from engine.cli.common import OUTPUTS, aws_options, errors_to_exit, main, one_target


@main.command()
@click.argument("folder", default="rollouts", type=click.Path(path_type=Path))
@click.option("--watch", is_flag=True, help="Refresh until no rollout is rolling out.")
@click.option("--interval", type=click.FloatRange(min=0.1, max=3600), default=5.0,
              show_default=True,
              help="Seconds between refreshes with --watch.")
@click.option("--output", "-o", type=OUTPUTS, default="text", show_default=True)
@aws_options(ledger=False)
def status(folder: Path, watch: bool, interval: float, output: str, region: str | None,
           profile: str | None, endpoint_url: str | None, sandbox: bool) -> None:
    """How far each rollout has got: execution counts, rate, abort margins.

    --watch refreshes until no rollout is rolling out to devices: every job finished, is
    waiting for its scheduled start, or is CONTINUOUS with every execution so far finished
    (AWS keeps it open for devices that join). In the sandbox, devices make progress each
    time status looks.
    """
    import time

    from engine.aws import Connection
    from engine.loader.tree import find_repo_root, find_rollouts
    from engine.render import envelope
    from engine.render import status as render
    from engine.status import settled
    from engine.workflow import status_folder

    with errors_to_exit(output):
        folder = find_rollouts(folder)
    connection = Connection(region=region, profile=profile, endpoint_url=endpoint_url)
    unicode = (sys.stdout.encoding or "").lower().startswith("utf")

    def look() -> list[Any]:
        context: Any = nullcontext(None)
        if sandbox:
            from engine.sandbox.runtime import sandbox as simulated

            one_target(endpoint_url)
            context = simulated(find_repo_root(folder.resolve()), simulate=True)
        with context:
            return status_folder(folder, connection)

    def show(statuses: list[Any]) -> None:
        if output == "json":
            click.echo(envelope.success(render.data(statuses)))
        else:
            click.echo(render.text(statuses, unicode=unicode))

    with errors_to_exit(output):
        statuses = look()
        if output != "json":  # JSON is one document: the state the watch ends on
            show(statuses)
        while watch and not settled(statuses):
            time.sleep(interval)
            statuses = look()
            if output == "text" and sys.stdout.isatty():
                click.clear()
            if output != "json":
                show(statuses)
        if output == "json":
            show(statuses)
    sys.exit(0)
