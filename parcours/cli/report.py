"""``parcours report RUN`` and ``parcours compare RUN RUN...``: thin commands over parcours.report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from parcours.errors import ParcoursError

FORMATS = ("html", "json")


def _write(paths: list[Path], out: Path | None, fmt: str) -> None:
    from parcours.output.reader import Run
    from parcours.report.build import check_out, html_report, summarise_all, write_atomic
    from parcours.report.jsondoc import json_report

    opened = [Run(p) for p in paths]  # a missing or unfinished run fails here, before any work
    to_stdout = out is None or str(out) == "-"
    if not to_stdout:
        check_out(out)  # type: ignore[arg-type]  # not None here
    runs = summarise_all(opened)
    text = html_report(runs) if fmt == "html" else json_report(runs)
    if to_stdout or out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    click.echo(f"wrote {out}", err=True)


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
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
    """Write one self-contained HTML page (or JSON) with the figures of a finished run."""
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
    """Put two or more runs (RUNS: at least two run directories) side by side, with differences against
    the first one."""
    if len(runs) < 2:
        raise ParcoursError(f"compare: RUNS needs at least two run directories, got {len(runs)}")
    if out is None and fmt == "html":
        out = runs[0].parent / "compare.html"
    _write(list(runs), out, fmt)
