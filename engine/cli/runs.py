"""``plan`` and ``apply``: read AWS, show the plan, make its calls."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.common import (
    PLAN_OUTPUTS,
    aws_options,
    errors_to_exit,
    fail,
    main,
    now,
    one_target,
    rollouts_here,
)

if TYPE_CHECKING:
    from engine.workflow import PlanRun


def _failure(run: PlanRun, outcomes: Any = None) -> tuple[str, str] | None:
    """The error code and one-line message of a failed plan or apply; None if neither."""
    if run.plan.failed:
        conflicts = run.plan.summary()["conflict"]
        said = [*run.plan.errors] + ([f"the plan has {conflicts} conflict(s): pinned jobIds "
                                      "that exist with other content"] if conflicts else [])
        return ("CONFLICT" if conflicts else "PLAN_ERROR",
                "; ".join(said) + ("; nothing was applied" if outcomes is not None else ""))
    failed = [o for o in outcomes or [] if not o.ok]
    if failed:
        return ("APPLY_FAILED", f"{len(failed)} action(s) failed; run apply again to finish "
                                "the rest")
    return None


def _show(run: PlanRun, output: str, outcomes: Any = None, *,
          plan_file: str | None = None) -> None:
    """The run on stdout; for text, a failure's one line on stderr as well."""
    click.echo(_render(run, output, outcomes, plan_file=plan_file))
    failure = _failure(run, outcomes)
    if output == "text" and failure is not None:
        click.echo(f"error: {failure[1]}", err=True)


def _render(run: PlanRun, output: str, outcomes: Any = None, *,
            plan_file: str | None = None) -> str:
    from engine.policies import in_use
    from engine.render import envelope, markdown
    from engine.render import plan as render
    from engine.workflow import ledger_warning

    warning = ledger_warning(run)
    # Policies of level warning, broken: reported in every plan, never failing it.
    warnings = [str(p) for p in run.validation.problems
                if p.code == "POLICY_VIOLATION" and not p.is_error]
    report = render.Report(run.api_calls(), (*warnings, *([warning] if warning else [])),
                           tuple(in_use(run.validation.jobs)))
    if output == "json":
        body = render.data(run.plan, report, outcomes)
        failed = [c for c in body["changes"]
                  if c["action"] == "conflict" or not c.get("outcome", {}).get("ok", True)]
        failure = _failure(run, outcomes)
        if failure is not None:
            code, message = failure
            return envelope.failure(code, message,
                                    failed + [{"message": e} for e in run.plan.errors])
        return envelope.success(body)
    if output == "markdown":
        return markdown.render(run.plan, report, outcomes, plan_file=plan_file)
    return render.text(run.plan, report, outcomes, colour=render.use_colour())


def _plan(folder: Path, region: str | None, profile: str | None, endpoint_url: str | None,
          ledger: str | None, sandbox: bool, prune: bool,
          body: Callable[[PlanRun], None], *, reads_only: bool = False,
          reach: bool = True) -> None:
    """Plan (inside the sandbox if asked) and hand the run to ``body``; ``reads_only``: a
    plan that applies nothing (it assumes each account's planRoleArn where one is set);
    ``reach``: count the targeted thing groups."""
    from engine.aws import Connection
    from engine.loader.tree import find_repo_root, find_rollouts
    from engine.workflow import plan_folder

    folder = find_rollouts(folder)
    connection = Connection(region=region, profile=profile, endpoint_url=endpoint_url,
                            reads_only=reads_only)
    context: Any = nullcontext(None)
    if sandbox:
        from engine.sandbox.runtime import sandbox as simulated

        one_target(endpoint_url, ledger)
        context = simulated(find_repo_root(folder.resolve()))
    with context as box:
        run = plan_folder(folder, connection, ledger=ledger, prune=prune, now=now(),
                          ledger_override=box.ledger if box is not None else None,
                          reach=reach)
        body(run)


@main.command()
@click.argument("folder", default="rollouts", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Save the plan for `apply FILE`.")
@click.option("--output", "-o", type=PLAN_OUTPUTS, default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 for no changes, 2 for changes, 1 for errors.")
@click.option("--prune", is_flag=True,
              help="Show the cancels of orphans (active jobs of this project whose rollout "
                   "left git) that apply --prune would make; plan itself never writes.")
@click.option("--no-reach", is_flag=True,
              help="Do not count the things of targeted thing groups (the review figures' "
                   "reach): no GetStatistics or ListThingsInThingGroup call.")
@aws_options()
def plan(folder: Path, out: Path | None, output: str, detailed_exitcode: bool, prune: bool,
         no_reach: bool, region: str | None, profile: str | None, endpoint_url: str | None,
         ledger: str | None, sandbox: bool) -> None:
    """Show which API calls would bring AWS IoT to the manifests. Writes nothing to AWS."""
    from engine.saved import save_plan

    result: dict[str, Any] = {}

    def show(run: PlanRun) -> None:
        if out is not None:
            save_plan(out, run.validation.root, run.plan, prune=prune)
        _show(run, output, plan_file=str(out) if out else None)
        result["run"] = run

    with errors_to_exit(output):
        _plan(folder, region, profile, endpoint_url, ledger, sandbox, prune, show,
              reads_only=True, reach=not no_reach)
    run: PlanRun = result["run"]
    if run.plan.failed:
        sys.exit(1)
    if detailed_exitcode and run.plan.has_changes:
        sys.exit(2)
    sys.exit(0)


@main.command()
@click.argument("target", default="rollouts", type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--dry-run", is_flag=True, help="Show what apply would do; call nothing that writes.")
@click.option("--prune", is_flag=True,
              help="Cancel orphans: active jobs of this project whose rollout left git.")
@click.option("--output", "-o", type=PLAN_OUTPUTS, default="text", show_default=True)
@click.option("--no-reach", is_flag=True,
              help="Do not count the things of targeted thing groups (the review figures' "
                   "reach): no GetStatistics or ListThingsInThingGroup call.")
@aws_options()
def apply(target: Path, auto_approve: bool, dry_run: bool, prune: bool,
          output: str, no_reach: bool, region: str | None, profile: str | None,
          endpoint_url: str | None, ledger: str | None, sandbox: bool) -> None:
    """Make the changes a plan shows. TARGET is the rollouts folder or a saved plan file."""
    from engine.saved import check_folder, check_saved, load_saved
    from engine.workflow import apply_run, record_reads

    saved = None
    with errors_to_exit(output):
        if target.suffix == ".json" and not target.exists():
            from engine.saved import BadPlanFile

            raise BadPlanFile(f"no saved plan {target}: make one with plan --out {target}")
        saved = load_saved(target) if target.is_file() else None
        if saved is not None:
            check_folder(saved, rollouts_here())
    folder = Path(saved.folder) if saved else target
    prune = saved.prune if saved else prune
    status: dict[str, int] = {}

    def act(run: PlanRun) -> None:
        if saved is not None:
            check_saved(saved, run.plan)
        if run.plan.failed or dry_run or not (run.plan.changes or run.plan.unrecorded):
            if not (run.plan.failed or dry_run):
                record_reads(run)  # how finished jobs ended: no later plan reads them again
            _show(run, output)
            if dry_run and output == "text" and run.plan.changes:
                click.echo("Dry run: nothing was applied.")
            status["code"] = 1 if run.plan.failed else 0
            return
        if not auto_approve and saved is None and run.plan.changes:
            # The plan to approve is for a person: on stdout only where stdout is text.
            if not sys.stdin.isatty():
                click.echo(_render(run, "text"), err=output != "text")
                fail("APPLY_FAILED", "not at a terminal, so cannot ask: review the plan above "
                                    "and run apply with --auto-approve", output)
            click.echo(_render(run, "text"), err=output != "text")
            if not click.confirm("Apply these changes?", default=False, err=True):
                fail("APPLY_FAILED", "nothing applied: the changes were not approved", output)
        outcomes = apply_run(run)
        _show(run, output, outcomes)
        status["code"] = 0 if all(o.ok for o in outcomes) else 1

    with errors_to_exit(output):
        _plan(folder, region, profile, endpoint_url, ledger, sandbox, prune, act,
              reach=not no_reach)
    sys.exit(status.get("code", 1))
