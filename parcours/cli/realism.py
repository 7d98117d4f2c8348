"""``parcours realism RUN``: the run's figures against published ones; exit 1 when one is outside."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="text: each figure with its source, for people; json: the same, for scripts.",
)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
def realism(ctx: click.Context, run: Path, fmt: str, out: Path | None) -> None:
    """Set the run's figures next to published ones, each with its source, period and population.

    Exit status: 0 when every checkable figure is inside its published range (or too few to check,
    or not checkable on this run), 1 when at least one is outside, 2 for bad input.
    """
    from parcours.cli.destination import Destination
    from parcours.output.reader import Run
    from parcours.report.realism.assess import assess_run, outside, run_document
    from parcours.report.realism.text import report_text

    opened = Run(run)
    destination = Destination(out)
    basis, findings = assess_run(opened)
    if fmt == "json":
        text = json.dumps(run_document(basis, str(run), findings), indent=2, allow_nan=False) + "\n"
    else:
        text = report_text(basis, str(run), findings)
    destination.write(text)
    ctx.exit(1 if outside(findings) else 0)
