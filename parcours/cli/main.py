"""The front door: ``parcours simulate | personas | scenarios | validate`` (and report, replay).

Commands are thin: they parse arguments and call plain functions. Anything a user can get wrong raises
a ParcoursError, printed here on one line with exit code 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from parcours import __version__
from parcours.errors import ParcoursError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parcours")
def cli() -> None:
    """Simulate customers moving between channels, report on it, replay it against a backend."""


def _default_out(scenario: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(scenario).stem}-{stamp}"


@cli.command()
@click.option(
    "--scenario", "-s", default="omnichannel", show_default=True, help="Built-in name or .toml path."
)
@click.option("--customers", "-n", type=int, help="Population size (overrides the scenario).")
@click.option("--seed", type=int, help="Root seed (overrides the scenario).")
@click.option("--days", type=int, help="Number of simulated days (overrides the scenario).")
@click.option("--start", help="First day, YYYY-MM-DD (overrides the scenario).")
@click.option(
    "--out", "-o", type=click.Path(path_type=Path), help="Run directory [default: runs/SCENARIO-TIME]."
)
@click.option(
    "--workers", "-w", type=int, default=1, show_default=True, help="Shards, each in its own process or task."
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),  # as parcours.simulator.executors.EXECUTORS, without its imports
    default="local",
    show_default=True,
    help="Where shards run: local processes, or a Dask cluster (pip install 'parcours[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://HOST:8786 [default: a local cluster of --workers processes].",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing run at --out.")
@click.option("--progress/--no-progress", default=None, help="Progress display [default: on a terminal].")
def simulate(
    scenario: str,
    customers: int | None,
    seed: int | None,
    days: int | None,
    start: str | None,
    out: Path | None,
    workers: int,
    executor: str,
    scheduler: str | None,
    overwrite: bool,
    progress: bool | None,
) -> None:
    """Simulate the scenario's customers and write a run directory of Parquet events."""
    from parcours.simulator.progress import Progress
    from parcours.simulator.run import Overrides, simulate_run

    overrides = Overrides(customers=customers, seed=seed, days=days, start=start)
    show = sys.stderr.isatty() if progress is None else progress
    with Progress(enabled=show) as bar:
        manifest = simulate_run(
            scenario,
            overrides,
            out or _default_out(scenario),
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            overwrite=overwrite,
            on_progress=bar.update,
        )
    counts = manifest["counts"]
    click.echo(
        f"wrote {manifest['path']}: {counts['customers']:,} customers, {counts['events']:,} events, "
        f"{counts['journeys']:,} journeys in {manifest['wall_time_s']:.1f} s "
        f"({manifest['events_per_s']:,.0f} events/s)"
    )


@cli.group()
def personas() -> None:
    """The built-in personas."""


@personas.command("list")
def personas_list() -> None:
    """The built-in personas, one line each."""
    from parcours.personas import builtin_names, get_persona

    for name in builtin_names():
        p = get_persona(name)
        click.echo(f"{name:<16} {p.population_share:>4.0%}  {p.description}")


@personas.command("show")
@click.argument("name")
def personas_show(name: str) -> None:
    """What a persona does over a day, in words and numbers (NAME or a .toml path)."""
    from parcours.personas import get_persona
    from parcours.simulator.describe import describe_persona

    click.echo(describe_persona(get_persona(name)))


@cli.group()
def scenarios() -> None:
    """The built-in scenarios."""


@scenarios.command("list")
def scenarios_list() -> None:
    """The built-in scenarios, one line each."""
    from parcours.scenarios import builtin_names, get_scenario

    for name in builtin_names():
        s = get_scenario(name)
        click.echo(f"{name:<14} {s.population.customers:>9,} customers  {s.description}")


@scenarios.command("show")
@click.argument("name")
def scenarios_show(name: str) -> None:
    """A scenario's settings, resolved (NAME or a .toml path)."""
    from parcours.simulator.describe import describe_scenario

    click.echo(describe_scenario(name))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check persona or scenario files without running anything."""
    from parcours.simulator.describe import validate_file

    for path in files:
        kind, name = validate_file(path)
        click.echo(f"{path}: ok ({kind} {name})")


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


from parcours.cli.report import compare, report  # noqa: E402

cli.add_command(report)
cli.add_command(compare)

from parcours.cli.replay import replay  # noqa: E402

cli.add_command(replay)

from parcours.cli.backend import backend  # noqa: E402

cli.add_command(backend)

if __name__ == "__main__":
    main()
