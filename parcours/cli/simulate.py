"""``parcours simulate``: run a scenario's customers through the SimPy world into a run directory."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from parcours.simulator.run.options import Execution, Overrides


def _default_out(scenario: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(scenario).stem}-{stamp}"


@click.command()
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
    "--workers",
    "-w",
    type=int,
    default=1,
    show_default=True,
    help="Processes (or Dask workers) running shards.",
)
@click.option(
    "--shards",
    type=int,
    help="Shards to cut the customers into; the output depends on the seed and this count only "
    "[default: one per 1,500,000 customers, at least --workers].",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),  # options.EXECUTOR_NAMES, not imported for --help
    default="local",
    show_default=True,
    help="Where shards run: local processes, or a Dask cluster (pip install 'parcours[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://HOST:8786 [default: a local cluster of --workers processes].",
)
@click.option(
    "--replicates",
    "-r",
    type=int,
    help="Write a run set: this many runs in --out (rep-000, rep-001, ...), seeds derived from --seed.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the run (or run set) at --out, with its replays/ and reports, once the new one is done.",
)
@click.option("--progress/--no-progress", default=None, help="Progress display [default: on a terminal].")
def simulate(
    scenario: str,
    customers: int | None,
    seed: int | None,
    days: int | None,
    start: str | None,
    out: Path | None,
    workers: int,
    shards: int | None,
    executor: str,
    scheduler: str | None,
    replicates: int | None,
    overwrite: bool,
    progress: bool | None,
) -> None:
    """Simulate the scenario's customers and write a run directory of Parquet events.

    With --replicates R, write a run set instead: R runs of the same scenario, replicate i with a seed
    derived from --seed (or the scenario's seed) and i only, so that two run sets made with the same
    --seed are paired replicate by replicate (common random numbers) for `parcours compare`.
    """
    from parcours.api.simulate import Hooks, write
    from parcours.cli.progress import Progress
    from parcours.simulator.run.options import Execution, Overrides

    # This process does one simulate and ends: what it has loaded is set aside from the cyclic collector,
    # whose full collection at each shard's end otherwise walks every module's objects again (and, in
    # a forked worker, copies their pages).
    gc.freeze()
    overrides = Overrides(customers=customers, seed=seed, days=days, start=start)
    execution = Execution(workers=workers, shards=shards, executor=executor, scheduler=scheduler)
    show = sys.stderr.isatty() if progress is None else progress
    target = out or _default_out(scenario)
    if replicates is not None:
        _simulate_set(scenario, overrides, execution, target, replicates, overwrite=overwrite, show=show)
        return
    with Progress(enabled=show) as bar:
        hooks = Hooks(on_progress=bar.update, say=lambda line: bar.note(f"parcours: {line}"))
        manifest = write(scenario, overrides, execution, target, overwrite=overwrite, hooks=hooks)
    counts = manifest.counts
    click.echo(
        f"wrote {manifest.path}: {counts.customers:,} customers, {counts.events:,} events, "
        f"{counts.journeys:,} journeys in {manifest.wall_time_s:.1f} s "
        f"({manifest.events_per_s or 0:,.0f} events/s)"
    )


def _simulate_set(
    scenario: str,
    overrides: Overrides,
    execution: Execution,
    out: Path,
    replicates: int,
    *,
    overwrite: bool,
    show: bool,
) -> None:
    from parcours.api.simulate import Hooks, write
    from parcours.cli.progress import Progress

    bars: list[Progress] = []  # one progress line per replicate

    def starting(index: int, count: int) -> None:
        if bars:
            bars[-1].__exit__()
        if show:
            click.echo(f"replicate {index + 1} of {count}", err=True)
        bars.append(Progress(enabled=show))

    try:
        hooks = Hooks(on_progress=lambda *tick: bars[-1].update(*tick), on_replicate=starting)
        manifest = write(scenario, overrides, execution, out, replicates, overwrite=overwrite, hooks=hooks)
    finally:
        if bars:
            bars[-1].__exit__()
    events = manifest.counts.events if manifest.counts else 0
    click.echo(
        f"wrote {out}: {replicates} replicates (root seed {manifest.root_seed}), "
        f"{events:,} events in {manifest.wall_time_s or 0:.1f} s"
    )
