"""The ``rollouts`` command: parse options, call one engine function, render, exit.

Exit codes: 0 success (valid; no changes; applied); 1 error, invalid manifests, conflict,
stale plan or a failed action; 2 (``plan --detailed-exitcode``) changes to make.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine import __version__

if TYPE_CHECKING:
    from engine.workflow import PlanRun

OUTPUTS = click.Choice(["text", "json"])
PLAN_OUTPUTS = click.Choice(["text", "json", "markdown"])
F = TypeVar("F", bound=Callable[..., Any])


def _wants_json(args: list[str]) -> bool:
    return any(a in ("--output=json", "-ojson") or (a in ("--output", "-o") and b == "json")
               for a, b in zip(args, [*args[1:], ""], strict=True))


class _Rollouts(click.Group):
    """click's usage errors (an unknown option, a bad choice) as every other error: exit 1,
    never the 2 that ``--detailed-exitcode`` gives to changes, and with ``--output json``
    the envelope on stdout."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        argv = list(kwargs.get("args") or (args[0] if args else None) or sys.argv[1:])
        try:
            return super().main(*args, **kwargs)
        except click.ClickException as exc:
            if _wants_json(argv):
                from engine.render import envelope

                click.echo(envelope.failure("CONFIG_ERROR", exc.format_message()))
            else:
                exc.show()
            sys.exit(1)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)


@click.group(cls=_Rollouts, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rollouts")
def main() -> None:
    """Declarative rollouts of AWS IoT Jobs, driven by git."""


def aws_options(*, ledger: bool = True) -> Callable[[F], F]:
    """The options every command that reaches AWS shares; ``--ledger`` where it is read."""
    options = [
        click.option("--region", help="Default region (else _config.yaml's, else AWS_REGION "
                                      "or AWS_DEFAULT_REGION, else the profile's)."),
        click.option("--profile", help="AWS profile to use."),
        click.option("--endpoint-url", help="Another endpoint for AWS IoT (a moto server)."),
        *([click.option("--ledger", help="Ledger location, s3://bucket/key or file://path "
                                         "(else _config.yaml's).")] if ledger else []),
        click.option("--sandbox", is_flag=True, help="Use the simulated AWS IoT kept in "
                                                     ".rollouts-sandbox/ (no AWS account)."),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def fail(code: str, message: str, output: str, details: list[Any] | None = None) -> None:
    """The one place errors become messages and exit code 1."""
    from engine.render import envelope

    if output == "json":
        click.echo(envelope.failure(code, message, details))
    elif output == "markdown":
        from engine.render import markdown

        click.echo(markdown.error(code, message))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def errors_to_exit(output: str) -> Iterator[None]:
    from engine.errors import InvalidManifests, RolloutsError

    try:
        yield
    except InvalidManifests as exc:
        if output == "json":
            fail(exc.code, str(exc), output, [p.as_detail() for p in exc.problems])
        if output == "markdown":
            from engine.render import markdown

            click.echo(markdown.problems(exc.problems))
            sys.exit(1)
        for problem in exc.problems:
            click.echo(str(problem))
        fail(exc.code, f"{exc}; no API call was made", output)
    except RolloutsError as exc:
        fail(exc.code, str(exc), output)
    except Exception as exc:  # a bug: still one line (and the envelope), never a traceback
        fail("PLAN_ERROR", f"unexpected {type(exc).__name__}: {exc} (please report this)",
             output)


def _one_target(endpoint_url: str | None, ledger: str | None = None) -> None:
    """--sandbox and --endpoint-url name two different AWS: refuse to guess; the sandbox
    keeps a ledger of its own, so --ledger would be ignored: refuse it too."""
    from engine.errors import ConfigError

    if endpoint_url:
        raise ConfigError("--sandbox and --endpoint-url both say where AWS is: use one")
    if ledger:
        raise ConfigError("--ledger has no effect with --sandbox: the sandbox keeps its own "
                          "ledger in .rollouts-sandbox/")


def _rollouts_here() -> Path | None:
    """The rollouts folder the working folder is in (as a command finds it), if any."""
    from engine.errors import ConfigError
    from engine.loader.tree import find_rollouts

    try:
        return find_rollouts(Path("rollouts"))
    except ConfigError:
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
        result = validate_folder(find_rollouts(folder), now=_now())
        click.echo(render.json_text(result) if output == "json" else render.text(result))
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option("--kind", type=click.Choice(["manifest", "defaults", "config"]),
              default="manifest", show_default=True,
              help="Which file: a manifest, a _defaults.yaml or the _config.yaml.")
def schema(kind: str) -> None:
    """Print the JSON Schema of one kind of file, for editors (yaml-language-server).

    Each describes a file as written, before _defaults.yaml are merged in.
    """
    from engine.schema.editor import editor_schema

    click.echo(json.dumps(editor_schema(kind), indent=2))


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
    from engine.render import envelope, markdown
    from engine.render import plan as render
    from engine.workflow import ledger_warning

    warning = ledger_warning(run)
    report = render.Report(run.api_calls(), (warning,) if warning else ())
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
          body: Callable[[PlanRun], None]) -> None:
    """Plan (inside the sandbox if asked) and hand the run to ``body``."""
    from engine.aws import Connection
    from engine.loader.tree import find_repo_root, find_rollouts
    from engine.workflow import plan_folder

    folder = find_rollouts(folder)
    connection = Connection(region=region, profile=profile, endpoint_url=endpoint_url)
    context: Any = nullcontext(None)
    if sandbox:
        from engine.sandbox.runtime import sandbox as simulated

        _one_target(endpoint_url, ledger)
        context = simulated(find_repo_root(folder.resolve()))
    with context as box:
        run = plan_folder(folder, connection, ledger=ledger, prune=prune, now=_now(),
                          ledger_override=box.ledger if box is not None else None)
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
@aws_options()
def plan(folder: Path, out: Path | None, output: str, detailed_exitcode: bool, prune: bool,
         region: str | None, profile: str | None, endpoint_url: str | None,
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
        _plan(folder, region, profile, endpoint_url, ledger, sandbox, prune, show)
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
@aws_options()
def apply(target: Path, auto_approve: bool, dry_run: bool, prune: bool,
          output: str, region: str | None, profile: str | None, endpoint_url: str | None,
          ledger: str | None, sandbox: bool) -> None:
    """Make the changes a plan shows. TARGET is the rollouts folder or a saved plan file."""
    from engine.saved import check_folder, check_saved, load_saved
    from engine.workflow import apply_run

    saved = None
    with errors_to_exit(output):
        if target.suffix == ".json" and not target.exists():
            from engine.saved import BadPlanFile

            raise BadPlanFile(f"no saved plan {target}: make one with plan --out {target}")
        saved = load_saved(target) if target.is_file() else None
        if saved is not None:
            check_folder(saved, _rollouts_here())
    folder = Path(saved.folder) if saved else target
    prune = saved.prune if saved else prune
    status: dict[str, int] = {}

    def act(run: PlanRun) -> None:
        if saved is not None:
            check_saved(saved, run.plan)
        if run.plan.failed or dry_run or not (run.plan.changes or run.plan.unrecorded):
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
        _plan(folder, region, profile, endpoint_url, ledger, sandbox, prune, act)
    sys.exit(status.get("code", 1))


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

            _one_target(endpoint_url)
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
