"""The front door: the ``parcours`` command group and ``main()``, which turns user mistakes into one line.

Each verb group lives in its own module of this package and is thin: it parses arguments and calls
plain functions of the package that does the work, imported inside the command, so that
``parcours simulate`` never loads the report, Locust or gevent.
"""

from __future__ import annotations

import sys

import click

from parcours import __version__
from parcours.cli.backend import backend
from parcours.cli.explain import explain
from parcours.cli.replay import locust, locustfile, replay
from parcours.cli.report import compare, report
from parcours.cli.simulate import simulate
from parcours.cli.specs import personas, scenarios, validate
from parcours.errors import ParcoursError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parcours")
def cli() -> None:
    """Simulate customers moving between channels, report on it, replay it against a backend."""


for command in (
    simulate,
    personas,
    scenarios,
    validate,
    report,
    compare,
    explain,
    replay,
    backend,
    locustfile,
    locust,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user mistakes become one line on stderr and exit code 2."""
    try:
        code = cli.main(args=argv, prog_name="parcours", standalone_mode=False)
    except ParcoursError as exc:
        click.echo(f"parcours: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("parcours: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"parcours: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("parcours: interrupted", err=True)
        sys.exit(130)
    # without standalone mode, ctx.exit(n) comes back as the return value
    sys.exit(code if isinstance(code, int) else 0)
