"""The ``rollouts`` command: parse options, call one engine function, render, exit.

Exit codes: 0 success (valid, nothing to do); 1 error or invalid; 2 (plan with
``--detailed-exitcode``) changes to make.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from engine import __version__

OUTPUTS = click.Choice(["text", "json"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rollouts")
def main() -> None:
    """Declarative rollouts of AWS IoT Jobs, driven by git."""


@main.command()
@click.argument("folder", default="rollouts", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=OUTPUTS, default="text", show_default=True)
def validate(folder: Path, output: str) -> None:
    """Check every manifest under FOLDER (default rollouts/); no AWS call is made.

    Exit 0 when every manifest is valid (warnings allowed), 1 otherwise.
    """
    from engine.render import validation as render
    from engine.validate import validate_folder

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    result = validate_folder(folder, now=now)
    click.echo(render.json_text(result) if output == "json" else render.text(result))
    sys.exit(0 if result.ok else 1)


@main.command()
def schema() -> None:
    """Print the JSON Schema of a manifest, for editors (yaml-language-server)."""
    from engine.schema.jsonschema import manifest_schema

    click.echo(json.dumps(manifest_schema(), indent=2))
