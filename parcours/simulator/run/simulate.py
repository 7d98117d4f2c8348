"""A whole run: resolve the scenario, run its shards (here or in worker processes), write the run dir."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from parcours import __version__
from parcours.errors import ParcoursError, RunDirError
from parcours.output.manifest import Counts, Manifest, Resources, ScenarioRecord, now_iso
from parcours.output.rundir import CUSTOMERS_DIR, JOURNEYS_DIR, RunWriter, check_out_dir, part_name
from parcours.output.schema import SCHEMA_VERSION
from parcours.scenarios import Scenario, get_scenario
from parcours.simulator.model.inputs import Model, build_model
from parcours.simulator.run.executors import open_executor
from parcours.simulator.run.options import ONE_PROCESS, Execution, Overrides
from parcours.simulator.run.shard import ShardCounts, ShardPaths

OnProgress = Callable[[float, float, int], None]  # simulated seconds done, horizon, events written
#: Customers per shard when --shards is not given: a shard's memory follows its customers, so a file of
#: any size runs in shards of about this many, a few at a time (as many as there are workers). A shard
#: has a fixed cost of about half a CPU second (its day's 144 slices); at 1.5 M a 30 M file makes 20
#: shards, which 2, 4 or 5 processes share evenly (15 shards of 2 M left one process alone at the end).
SHARD_CUSTOMERS = 1_500_000


def default_shards(customers: int, workers: int, stores: int | None = None) -> int:
    """The shard count when none is given: one per SHARD_CUSTOMERS customers, and at least one per worker,
    but no more than there are stores (a shard holds whole stores).

    It depends on the customer count (and on --workers only when they outnumber those shards), so that
    the same file with the same workers is always cut the same way; pass --shards to fix it outright.
    """
    wanted = max(workers, -(-customers // SHARD_CUSTOMERS))
    return wanted if stores is None else max(1, min(wanted, stores))


def resolve(scenario: str | Scenario, overrides: Overrides, source: str | None = None) -> Model:
    """The model of a scenario given by name or path, or as a Scenario already loaded (``source`` then
    names it in error messages)."""
    if isinstance(scenario, Scenario):
        return build_model(overrides.apply(scenario), source or scenario.name)
    return build_model(overrides.apply(get_scenario(scenario)), scenario)


def check_shards(scenario: Scenario, shards: int, arg: str = "--workers") -> None:
    """A shard holds whole stores (and their customers): no more shards than the run has stores."""
    customers, per_store = scenario.population.customers, scenario.stores.customers_per_store
    stores = -(-customers // per_store)
    if shards > stores:
        raise ParcoursError(
            f"{arg}: {shards} shards for {customers:,} customers in {stores} store(s) (one per "
            f"{per_store:,} customers); a shard holds whole stores: give at most {arg} {stores}, "
            f"or at least {shards * per_store - per_store + 1:,} customers"
        )


def shard_count(scenario: Scenario, execution: Execution) -> int:
    """The shards the run is cut into: ``--shards`` if given (checked against the stores), else the
    default for its size."""
    customers, per_store = scenario.population.customers, scenario.stores.customers_per_store
    if execution.shards is not None:
        check_shards(scenario, execution.shards, "--shards")
        return execution.shards
    return default_shards(customers, execution.workers, -(-customers // per_store))


def _shard_paths(writer: RunWriter, shard: int, scratch: bool, threads: bool) -> ShardPaths:
    suffix = ".arrow" if scratch else ".parquet"
    return ShardPaths(
        writer.events_part(shard, suffix),
        None if scratch else writer.path(CUSTOMERS_DIR) / part_name(shard),
        writer.path(JOURNEYS_DIR) / part_name(shard, suffix),
        scratch=scratch,
        threads=threads,
    )


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def writer_threads(execution: Execution, shards: int) -> bool:
    """Whether shards encode their parts on writer threads: where the shard processes running at once
    leave a core to spare. With one process per core the threads only took turns with the days (a
    million customers on two workers: 2.0 s and 3.5 CPU s with them, 1.55 s and 2.7 CPU s without).
    A Dask cluster's workers are elsewhere, their cores unknown: threads, as before."""
    if execution.executor == "dask":
        return True
    return min(execution.workers, shards) < cores()


class _Progress:
    """Combines the shards' ticks into one display: the shards' mean clock, the total events.

    With more shards than processes most shards wait their turn at 0 or are done at the horizon: the mean
    says how much of the run is done, and reaches the horizon only with the last shard.
    """

    def __init__(self, shards: int, horizon_s: float, on_progress: OnProgress | None) -> None:
        self.clock = [0.0] * shards
        self.events = [0] * shards
        self.horizon_s = horizon_s
        self.on_progress = on_progress
        self.shown = (-1.0, -1)

    def tick(self, shard: int, sim_s: float, emitted: int) -> None:
        self.clock[shard], self.events[shard] = sim_s, emitted
        now = (float(np.mean(self.clock)), sum(self.events))
        if self.on_progress is not None and now != self.shown:  # executors repeat the last tick
            self.shown = now
            self.on_progress(now[0], self.horizon_s, now[1])


def simulate_run(
    scenario_name: str | Scenario,
    overrides: Overrides,
    out: Path,
    execution: Execution = ONE_PROCESS,
    *,
    overwrite: bool = False,
    on_progress: OnProgress | None = None,
    say: Callable[[str], None] | None = None,
    source: str | None = None,
    scratch: bool = False,
    threads: bool | None = None,
) -> Manifest:
    """Simulate and write a finished run directory at ``out``; returns its manifest.

    The customers are cut into ``execution.shards`` (by home store; see ``default_shards`` when None),
    the output depends on the seed and the shard count only. ``execution.workers`` processes (or, with
    the Dask executor, the tasks of a Dask cluster at its scheduler or of a local one started for the
    run) take the shards one after the other, each shard drawn, simulated and written on its own:
    memory follows the shard. ``say`` is told, in one line, what an ``overwrite`` removes, when it does.
    ``scratch``: a run read back once for figures that do not read its customers part, then removed
    (``explain``'s runs that are not kept): written without that part and with its other parts as Arrow
    IPC streams (``part-NNNNN.arrow``), which ``reader.ScratchRun`` reads. ``threads``: whether the
    shards encode on writer threads (None: ``writer_threads`` decides; a caller running several runs at
    once, as ``explain`` does, knows better); the bytes are the same either way.
    """
    model = resolve(scenario_name, overrides, source)
    n_shards = shard_count(model.scenario, execution)
    check_out_dir(out, overwrite=overwrite)  # before starting a cluster, which takes a while
    began = time.perf_counter()
    with (
        open_executor(execution) as pool,
        RunWriter(out, overwrite=overwrite, say=say) as writer,
        _write_errors(out, writer.tmp),
    ):
        progress = _Progress(n_shards, model.horizon_s, on_progress)
        for directory in (JOURNEYS_DIR,) if scratch else (CUSTOMERS_DIR, JOURNEYS_DIR):
            writer.path(directory).mkdir()
        on_threads = writer_threads(execution, n_shards) if threads is None else threads
        paths = [_shard_paths(writer, s, scratch, on_threads) for s in range(n_shards)]
        counts = pool.run(model, paths, progress.tick)
        wall = time.perf_counter() - began
        manifest = _manifest(model, n_shards, counts, wall, out)
        writer.finish(manifest)
    return manifest


@contextmanager
def _write_errors(out: Path, tmp: Path) -> Iterator[None]:
    """A write that fails (disk full, file size limit, quota), here or in a shard's process, as one line.

    Parquet's errors are OSErrors that name neither the file nor, in ``errno``, the cause: the cause is
    read from their text, and the line names the run being written.
    """
    try:
        yield
    except OSError as exc:
        number = exc.errno or _errno_in(str(exc))
        cause = os.strerror(number) if number else (exc.strerror or str(exc))
        raise RunDirError(
            f"--out {out}: cannot write the run ({cause}, in {exc.filename or tmp}); the unfinished run "
            "is removed, nothing else was touched"
        ) from None


def _errno_in(text: str) -> int | None:
    found = re.search(r"\[errno (\d+)\]", text)
    return int(found.group(1)) if found else None


def _manifest(model: Model, shards: int, counts: list[ShardCounts], wall: float, out: Path) -> Manifest:
    totals = {k: sum(getattr(c, k) for c in counts) for k in asdict(counts[0]) if k != "by_persona"}
    by_persona = np.sum([c.by_persona for c in counts], axis=0)
    return Manifest(
        parcours_version=__version__,
        schema_version=SCHEMA_VERSION,
        path=str(out),
        scenario=ScenarioRecord(model.scenario.model_dump(mode="json")),
        personas={p.name: p.model_dump(mode="json") for p in model.personas},
        seed=model.scenario.population.seed,
        shards=shards,
        events_per_shard=tuple(c.events for c in counts),
        timezone=model.scenario.calendar.timezone,
        start=dt.datetime.fromtimestamp(model.t0, dt.UTC).isoformat(),
        end=dt.datetime.fromtimestamp(model.t0 + model.horizon_s, dt.UTC).isoformat(),
        counts=Counts(**{k: int(v) for k, v in totals.items() if k in Counts.__dataclass_fields__}),
        customers_by_persona={p.name: int(n) for p, n in zip(model.personas, by_persona, strict=True)},
        resources=Resources(
            phone_agents=int(totals["phone_agents"]),
            chat_agents=int(totals["chat_agents"]),
            preparers_per_store=model.scenario.stores.preparers_per_store,
        ),
        wall_time_s=round(wall, 3),
        events_per_s=round(totals["events"] / wall, 1) if wall > 0 else None,
        created_at=now_iso(),
    )
