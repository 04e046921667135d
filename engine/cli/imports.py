"""``import``: manifests for jobs that already run in AWS IoT."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from engine.cli.common import OUTPUTS, aws_options, errors_to_exit, fail, main, one_target


@main.command("import")
@click.argument("job_ids", nargs=-1, metavar="JOB_ID...")
@click.option("--all", "all_active", is_flag=True,
              help="Every active job (IN_PROGRESS or SCHEDULED) without the tool's tags.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Folder to write the manifests in (default: the rollouts folder).")
@click.option("--folder", type=click.Path(path_type=Path), default=Path("rollouts"),
              show_default=True, help="The rollouts folder (its _config.yaml: project, "
                                      "region, defaults).")
@click.option("--output", "-o", type=OUTPUTS, default="text", show_default=True)
@aws_options(ledger=False)
def import_(job_ids: tuple[str, ...], all_active: bool, out: Path | None, folder: Path,
            output: str, region: str | None, profile: str | None,
            endpoint_url: str | None, sandbox: bool) -> None:
    """Write manifests for jobs that already run, so the next plan adopts them.

    One manifest per job, its jobId pinned: the next plan shows it as @ adopt
    (TagResource with the tool's tags) and nothing else.

    A finished job (COMPLETED, CANCELED) is imported as a finished revision: adopted and
    recorded in the ledger, never run again. A job of another project, or one already
    managed, is refused; an existing file is never overwritten.
    """
    from engine.aws import Connection
    from engine.importer import ImportRefused, import_jobs
    from engine.loader.tree import find_rollouts
    from engine.render import envelope

    connection = Connection(region=region, profile=profile, endpoint_url=endpoint_url)
    with errors_to_exit(output):
        root = find_rollouts(folder)
        context: Any = nullcontext(None)
        if sandbox:
            from engine.loader.tree import find_repo_root
            from engine.sandbox.runtime import sandbox as simulated

            one_target(endpoint_url)
            context = simulated(find_repo_root(root.resolve()))
        try:
            with context:
                result = import_jobs(root, connection, job_ids, all_active=all_active,
                                     out=out)
        except ImportRefused as exc:
            message = str(exc)
            if output != "json" and len(exc.reasons) > 1:
                for reason in exc.reasons:
                    click.echo(f"error: {reason}", err=True)
                message = f"nothing was written ({len(exc.reasons)} problems above)"
            fail(exc.code, message, output, [{"message": r} for r in exc.reasons])
    if output == "json":
        click.echo(envelope.success({
            "project": result.project, "region": result.region,
            "written": [{"file": w.file, "jobId": w.job_id, "name": w.name,
                         "status": w.status} for w in result.written],
            "skipped": [{"jobId": s.job_id, "reason": s.reason} for s in result.skipped],
            "policyViolations": list(result.violations),
            "apiCalls": result.api_calls}))
        sys.exit(0)
    for w in result.written:
        finished = "  (finished: adopted as a finished revision)" if w.finished else ""
        click.echo(f"wrote {w.file}  {w.job_id} {w.status}{finished}")
    for s in result.skipped:
        click.echo(f"skipped {s.job_id}: {s.reason}")
    if result.written:
        click.echo(f"{len(result.written)} manifest(s) written. Next: rollouts plan shows each "
                   "as @ adopt; rollouts apply tags them (and records them in the ledger).")
    else:
        click.echo("Nothing to import: no active job without the tool's tags.")
    for violation in result.violations:
        click.echo(f"policy: {violation}")
    if result.violations:
        click.echo("The jobs run as imported, breaking these policies: plan refuses them until "
                   "each is fixed in its manifest, or claims an exception (policyExceptions) "
                   "that review approves.")
    calls = ", ".join(f"{k} {v}" for k, v in result.api_calls.items())
    click.echo(f"API calls: {calls}")
    sys.exit(0)
