"""``parcours explain FROM TO``: which capabilities make the difference between two scenarios."""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time
from pathlib import Path

import click

FORMATS = ("html", "json")


class _RunProgress:
    """One line on stderr: runs done of all, the one just finished, elapsed time and time left."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.began = time.perf_counter()
        self.drawn = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.began
        left = elapsed / done * (total - done)
        line = f"\rrun {done:>4} of {total} | {elapsed:6.0f} s, ~{left:5.0f} s left | {what[:60]:<60}"
        sys.stderr.write(line)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")


def _load_in_background(module: str) -> threading.Thread:
    """Import ``module`` on a thread while this process waits for its workers: the page's imports
    (matplotlib, 0.3 s) then no longer hold up the start of the runs. Should it fail, the import
    that follows raises the error itself."""

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name="import-page", daemon=True)
    thread.start()
    return thread


@click.command()
@click.argument("from_scenario", metavar="FROM")
@click.argument("to_scenario", metavar="TO")
@click.option("--customers", "-n", type=int, help="Population size of every run (overrides the scenarios).")
@click.option("--replicates", "-r", type=int, default=3, show_default=True, help="Runs per combination.")
@click.option("--seed", type=int, help="Root seed of the replicate seeds [default: FROM's seed].")
@click.option("--days", type=int, help="Days every run covers (returns and week patterns need several).")
@click.option("--start", help="First day of every run, YYYY-MM-DD [default: the scenarios'].")
@click.option(
    "--workers", "-w", type=int, default=1, show_default=True, help="Runs at once, one process each."
)
@click.option(
    "--exact-up-to",
    type=int,
    default=6,
    show_default=True,
    help="Exact Shapley values (all 2^k combinations) up to this many differing capabilities.",
)
@click.option(
    "--permutations",
    type=int,
    default=12,
    show_default=True,
    help="Beyond --exact-up-to: orders of the capabilities sampled (in pairs, each with its reverse).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    help="Output file, '-' for stdout [default: explain-FROM-TO.html; stdout for json].",
)
@click.option("--keep-runs", type=click.Path(path_type=Path), help="Keep every run in this new folder.")
@click.option("--progress/--no-progress", default=None, help="Progress display [default: on a terminal].")
def explain(
    from_scenario: str,
    to_scenario: str,
    customers: int | None,
    replicates: int,
    seed: int | None,
    days: int | None,
    start: str | None,
    workers: int,
    exact_up_to: int,
    permutations: int,
    fmt: str,
    out: Path | None,
    keep_runs: Path | None,
    progress: bool | None,
) -> None:
    """Split the difference between scenarios FROM and TO (names or .toml files) in conversion,
    revenue, lost sales, calls abandoned and identities per person into each differing capability's
    Shapley contribution, with 95% intervals over replicates (common random numbers)."""
    from parcours.cli.destination import Destination
    from parcours.report.numbers.bounds import MIN_REPLICATES, few_replicates
    from parcours.strategy.explain import explain as run_explain

    if out is None and fmt == "html":
        out = Path(f"explain-{Path(from_scenario).stem}-{Path(to_scenario).stem}.html")
    destination = Destination(out)
    if 1 < replicates < MIN_REPLICATES:  # 1 is refused with its own message
        click.echo(f"warning: {few_replicates(replicates)}", err=True)
    bar = _RunProgress(sys.stderr.isatty() if progress is None else progress)
    page = _load_in_background("parcours.strategy.page")
    try:
        found = run_explain(
            from_scenario,
            to_scenario,
            customers=customers,
            replicates=replicates,
            seed=seed,
            days=days,
            start=start,
            workers=workers,
            exact_up_to=exact_up_to,
            permutations=permutations,
            keep_runs=keep_runs,
            on_run=bar,
        )
    finally:
        bar.close()
    page.join()
    from parcours.strategy.page import to_html, to_json

    text = to_html(found) if fmt == "html" else to_json(found)
    destination.write(text, f" ({found.wall_time_s:.0f} s)")
