"""What every command shares: the ``rollouts`` group, the AWS options, errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from engine import __version__

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
        except click.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort), a signal
            _interrupted(argv)


def _interrupted(argv: list[str]) -> None:
    """An interrupted command as any other failure: one line, or the envelope, exit 1.
    An apply may have made some of its changes: running it again finishes them."""
    from engine.render import envelope

    applying = next((a for a in argv if not a.startswith("-")), "") == "apply"
    message = ("interrupted: some changes may have been made; run apply again to finish"
               if applying else "interrupted before it finished; run the command again")
    code = "APPLY_FAILED" if applying else "INTERRUPTED"
    if _wants_json(argv):
        click.echo(envelope.failure(code, message))
    else:
        click.echo(f"error: {message}", err=True)
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


def one_target(endpoint_url: str | None, ledger: str | None = None) -> None:
    """--sandbox and --endpoint-url name two different AWS: refuse to guess; the sandbox
    keeps a ledger of its own, so --ledger would be ignored: refuse it too."""
    from engine.errors import ConfigError

    if endpoint_url:
        raise ConfigError("--sandbox and --endpoint-url both say where AWS is: use one")
    if ledger:
        raise ConfigError("--ledger has no effect with --sandbox: the sandbox keeps its own "
                          "ledger in .rollouts-sandbox/")


def rollouts_here() -> Path | None:
    """The rollouts folder the working folder is in (as a command finds it), if any."""
    from engine.errors import ConfigError
    from engine.loader.tree import find_rollouts

    try:
        return find_rollouts(Path("rollouts"))
    except ConfigError:
        return None


def now() -> datetime:
    """The plan clock: UTC, naive."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
