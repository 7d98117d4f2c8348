"""``parcours realism RUN``: the run's figures against published ones; exit 1 when one is outside."""

from __future__ import annotations

import json
import sys
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
    from parcours.output.reader import Run
    from parcours.report.pages.build import check_out, write_atomic
    from parcours.report.realism.assess import assess_run, outside, run_document
    from parcours.report.realism.text import report_text

    opened = Run(run)
    to_stdout = out is None or str(out) == "-"
    if not to_stdout:
        check_out(out)  # type: ignore[arg-type]  # not None here
    basis, findings = assess_run(opened)
    if fmt == "json":
        text = json.dumps(run_document(basis, str(run), findings), indent=2, allow_nan=False) + "\n"
    else:
        text = report_text(basis, str(run), findings)
    if to_stdout:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)  # type: ignore[arg-type]  # not None here
        click.echo(f"wrote {out}", err=True)
    ctx.exit(1 if outside(findings) else 0)
