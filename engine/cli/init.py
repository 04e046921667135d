"""``init``: set a repository up to run its rollouts from git (engine.scaffold)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.common import OUTPUTS, errors_to_exit, main


def _not_empty(_ctx: click.Context, _param: click.Parameter, value: str) -> Path:
    if not value.strip():  # Path("") would be the working folder: refuse to guess
        raise click.BadParameter("name a folder (or leave DIRECTORY out for this one)")
    return Path(value)


@main.command()
@click.argument("directory", default=".", callback=_not_empty)
@click.option("--force", is_flag=True, help="Overwrite the files that exist already.")
@click.option("--project", help="The project (tag rollouts:project); default: the GitHub "
                                "repository's name, else the folder's.")
@click.option("--region", help="Default region of the jobs (else AWS_REGION or AWS_DEFAULT_REGION, "
                   "else us-east-1).")
@click.option("--branch", default="main", show_default=True,
              help="The branch whose pushes apply (and that the gates apply every 15 min).")
@click.option("--output", "-o", type=OUTPUTS, default="text", show_default=True)
def init(directory: Path, force: bool, project: str | None, region: str | None,
         branch: str, output: str) -> None:
    """Write rollouts/_config.yaml, a first manifest, the plan, apply and gates workflows
    (calling this project's reusable workflows at the installed version) and the IAM
    policies into DIRECTORY (default: here), then print the next steps.

    A file that exists is kept (and listed) unless --force. Exit 0 when done, 1 on error.
    """
    from engine.render import envelope
    from engine.scaffold import init_repository
    from engine.scaffold import steps as render

    with errors_to_exit(output):
        done = init_repository(directory, force=force, project=project, region=region,
                               branch=branch)
    click.echo(envelope.success(render.data(done)) if output == "json" else render.text(done))
