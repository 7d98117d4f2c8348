"""``parcours personas | scenarios | validate``: the specs a run is made of, in words and numbers."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
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
    from parcours.cli.describe import describe_persona
    from parcours.personas import get_persona

    click.echo(describe_persona(get_persona(name)))


@click.group()
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
    from parcours.cli.describe import describe_scenario

    click.echo(describe_scenario(name))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check persona or scenario files without running anything."""
    from parcours.cli.describe import validate_file

    for path in files:
        kind, name = validate_file(path)
        click.echo(f"{path}: ok ({kind} {name})")
