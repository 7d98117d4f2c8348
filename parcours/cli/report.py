"""``parcours report RUN`` and ``parcours compare RUN RUN...``: thin commands over parcours.report."""

from __future__ import annotations

from pathlib import Path

import click

from parcours.errors import ParcoursError

FORMATS = ("html", "json")


def _write(paths: list[Path], out: Path | None, fmt: str) -> None:
    from parcours.cli.destination import Destination
    from parcours.report.pages.build import html_report
    from parcours.report.pages.jsondoc import json_report
    from parcours.report.pages.sets import (
        any_replicated,
        interval_table,
        open_sides,
        sides_document,
        summarise_sides,
    )

    opened = open_sides(paths)  # a missing or unfinished run (or run set) fails here, before any work
    destination = Destination(out)
    sides = summarise_sides(opened)
    runs = [s.first for s in sides]  # the plots: a run set's first replicate
    if fmt == "html":
        text = html_report(runs, interval_table(sides) if any_replicated(sides) else "")
    else:
        text = json_report(runs, sides_document(sides))
    destination.write(text)


@click.command()
@click.argument("run", metavar="RUN_OR_SET", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    help="Output file, '-' for stdout [default: RUN/report.html; stdout for json].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="html",
    show_default=True,
    help="html: one self-contained page with plots; json: every headline number, for scripts.",
)
def report(run: Path, out: Path | None, fmt: str) -> None:
    """Write one self-contained HTML page (or JSON) with the figures of a finished run, or of a run set
    (`simulate --replicates`): then each headline figure is a mean with its 95% interval."""
    if out is None and fmt == "html":
        out = run / "report.html"
    _write([run], out, fmt)


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    help="Output file, '-' for stdout [default: compare.html beside the first run; stdout for json].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="html",
    show_default=True,
    help="html: the figures side by side with deltas; json: every headline number and its delta.",
)
def compare(runs: tuple[Path, ...], out: Path | None, fmt: str) -> None:
    """Put two or more runs side by side (RUNS: at least two run directories, or run sets from
    `simulate --replicates`), with differences against the first one. Run sets give means with 95%
    intervals, and differences with theirs, paired replicate by replicate when both sets were made with
    the same --seed; a difference whose interval holds 0 is marked."""
    if len(runs) < 2:
        raise ParcoursError(f"compare: RUNS needs at least two run directories, got {len(runs)}")
    if out is None and fmt == "html":
        out = runs[0].parent / "compare.html"
    _write(list(runs), out, fmt)
