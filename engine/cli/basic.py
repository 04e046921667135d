"""``validate`` and ``schema``: the commands that read only the repository."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.cli.common import OUTPUTS, errors_to_exit, main, now


@main.command()
@click.argument("folder", default="rollouts", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=OUTPUTS, default="text", show_default=True)
def validate(folder: Path, output: str) -> None:
    """Check every manifest under FOLDER (default rollouts/); no AWS call is made.

    Exit 0 when every manifest is valid (warnings allowed), 1 otherwise.
    """
    from engine.loader.tree import find_rollouts
    from engine.render import validation as render
    from engine.validate import validate_folder

    with errors_to_exit(output):
        result = validate_folder(find_rollouts(folder), now=now())
        click.echo(render.json_text(result) if output == "json" else render.text(result))
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option("--kind", type=click.Choice(["manifest", "defaults", "config", "policies"]),
              default="manifest", show_default=True,
              help="Which file: a manifest, a _defaults.yaml, the _config.yaml or the "
                   "_policies.yaml.")
def schema(kind: str) -> None:
    """Print the JSON Schema of one kind of file, for editors (yaml-language-server).

    Each describes a file as written, before _defaults.yaml are merged in.
    """
    from engine.schema.editor import editor_schema

    click.echo(json.dumps(editor_schema(kind), indent=2))
