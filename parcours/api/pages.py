"""What ``parcours report``, ``compare`` and ``realism`` make of runs, for the API: the page as text, the
JSON documents as dicts. The same report code as the command line's, read through the same openers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def render(paths: Sequence[Path], fmt: str) -> str:
    """The report (one path) or comparison (several) of runs or run sets, as HTML or as JSON text."""
    from parcours.report.pages.build import html_report
    from parcours.report.pages.jsondoc import json_report
    from parcours.report.pages.sets import (
        any_replicated,
        interval_table,
        open_sides,
        sides_document,
        summarise_sides,
    )

    sides = summarise_sides(open_sides(paths))
    runs = [s.first for s in sides]  # the plots: a run set's first replicate
    if fmt == "html":
        return html_report(runs, interval_table(sides) if any_replicated(sides) else "")
    return json_report(runs, sides_document(sides))


def facts(paths: Sequence[Path]) -> dict[str, Any]:
    """The report's JSON (``parcours report --format json``; several paths: ``compare``), as a dict."""
    document: dict[str, Any] = json.loads(render(paths, "json"))
    return document


def write_page(paths: Sequence[Path], out: Path) -> Path:
    """The HTML page at ``out``, checked first (parcours replaces only a file it wrote) and written
    atomically."""
    from parcours.output.files import check_out, write_atomic

    check_out(out)  # before any work
    return write_atomic(out, render(paths, "html"))


def realism(path: Path) -> dict[str, Any]:
    """``parcours realism RUN --format json``, as a dict: each figure with its verdict and source."""
    from parcours.output.reader import Run
    from parcours.report.realism.assess import assess_run, run_document

    basis, findings = assess_run(Run(path))
    return run_document(basis, str(path), findings)
