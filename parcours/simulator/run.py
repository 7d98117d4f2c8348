"""A whole run: resolve the scenario, run its shards (here or in worker processes), write the run dir."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from parcours import __version__
from parcours.errors import ParcoursError
from parcours.output.rundir import CUSTOMERS, JOURNEYS, RunWriter, concat_parquet
from parcours.output.schema import CUSTOMER_SCHEMA, JOURNEY_SCHEMA, SCHEMA_VERSION
from parcours.scenarios import Scenario, get_scenario
from parcours.simulator.model import Model, build_model
from parcours.simulator.shard import ShardCounts, ShardPaths, run_shard

OnProgress = Callable[[float, float, int], None]  # simulated seconds done, horizon, events written


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that replace the scenario's."""

    customers: int | None = None
    seed: int | None = None
    days: int | None = None
    start: str | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        if self.customers is not None and self.customers <= 0:
            raise ParcoursError(f"--customers: must be a positive number of customers, not {self.customers}")
        if self.seed is not None and self.seed < 0:
            raise ParcoursError(f"--seed: must be zero or positive, not {self.seed}")
        if self.days is not None and not 0 < self.days <= 366:
            raise ParcoursError(f"--days: must be between 1 and 366, not {self.days}")
        population = scenario.population.model_copy(
            update={k: v for k, v in (("customers", self.customers), ("seed", self.seed)) if v is not None}
        )
        calendar = scenario.calendar
        if self.days is not None:
            calendar = calendar.model_copy(update={"days": self.days})
        if self.start is not None:
            try:
                calendar = calendar.model_copy(update={"start": dt.date.fromisoformat(self.start)})
            except ValueError:
                raise ParcoursError(f"--start: expected a date as YYYY-MM-DD, not {self.start!r}") from None
        return scenario.model_copy(update={"population": population, "calendar": calendar})


def resolve(scenario_name: str, overrides: Overrides) -> Model:
    return build_model(overrides.apply(get_scenario(scenario_name)), scenario_name)


def _shard_paths(writer: RunWriter, shard: int) -> ShardPaths:
    return ShardPaths(
        writer.events_part(shard),
        writer.path(f"customers-{shard:05d}.parquet"),
        writer.path(f"journeys-{shard:05d}.parquet"),
    )


class _Progress:
    """Combines the shards' ticks into one display: the slowest shard's clock, the total events."""

    def __init__(self, shards: int, horizon_s: float, on_progress: OnProgress | None) -> None:
        self.clock = [0.0] * shards
        self.events = [0] * shards
        self.horizon_s = horizon_s
        self.on_progress = on_progress

    def tick(self, shard: int, sim_s: float, emitted: int) -> None:
        self.clock[shard], self.events[shard] = sim_s, emitted
        if self.on_progress is not None:
            self.on_progress(min(self.clock), self.horizon_s, sum(self.events))


def _run_local(model: Model, writer: RunWriter, shards: int, progress: _Progress) -> list[ShardCounts]:
    return [run_shard(model, s, shards, _shard_paths(writer, s), progress.tick) for s in range(shards)]


def _queue_tick(queue: Any) -> Callable[[int, float, int], None]:
    def tick(shard: int, sim_s: float, emitted: int) -> None:
        queue.put((shard, sim_s, emitted))

    return tick


def _run_shard_in_worker(model: Model, shard: int, shards: int, paths: ShardPaths, queue: Any) -> ShardCounts:
    return run_shard(model, shard, shards, paths, _queue_tick(queue))


def _run_processes(model: Model, writer: RunWriter, shards: int, progress: _Progress) -> list[ShardCounts]:
    context = mp.get_context("spawn")  # no fork of a process that may hold threads (pyarrow)
    with context.Manager() as manager, ProcessPoolExecutor(shards, mp_context=context) as pool:
        queue = manager.Queue()
        futures = [
            pool.submit(_run_shard_in_worker, model, s, shards, _shard_paths(writer, s), queue)
            for s in range(shards)
        ]
        while not all(f.done() for f in futures):
            _drain(queue, progress, timeout=0.2)
        _drain(queue, progress, timeout=0.0)
        return [f.result() for f in futures]


def _drain(queue: Any, progress: _Progress, timeout: float) -> None:
    import queue as queue_module

    try:
        while True:
            progress.tick(*queue.get(timeout=timeout))
            timeout = 0.0
    except queue_module.Empty:
        return


def _merge(parts: list[Path], dest: Path, schema: Any) -> None:
    """The shards' ground-truth parts as one file (a single part is simply renamed)."""
    if len(parts) == 1:
        parts[0].rename(dest)
        return
    concat_parquet(parts, dest, schema)
    for part in parts:
        part.unlink()


def simulate_run(
    scenario_name: str,
    overrides: Overrides,
    out: Path,
    *,
    workers: int = 1,
    overwrite: bool = False,
    on_progress: OnProgress | None = None,
) -> dict[str, Any]:
    """Simulate and write a finished run directory at ``out``; returns its manifest."""
    if workers < 1:
        raise ParcoursError(f"--workers: must be at least 1, not {workers}")
    model = resolve(scenario_name, overrides)
    began = time.perf_counter()
    with RunWriter(out, overwrite=overwrite) as writer:
        progress = _Progress(workers, model.horizon_s, on_progress)
        run = _run_local if workers == 1 else _run_processes
        counts = run(model, writer, workers, progress)
        concat_parquet(
            [_shard_paths(writer, s).customers for s in range(workers)],
            writer.path(CUSTOMERS),
            CUSTOMER_SCHEMA,
        )
        concat_parquet(
            [_shard_paths(writer, s).journeys for s in range(workers)], writer.path(JOURNEYS), JOURNEY_SCHEMA
        )
        for s in range(workers):
            _shard_paths(writer, s).customers.unlink()
            _shard_paths(writer, s).journeys.unlink()
        wall = time.perf_counter() - began
        manifest = _manifest(model, workers, counts, wall, out)
        writer.finish(manifest)
    return manifest


def _manifest(model: Model, shards: int, counts: list[ShardCounts], wall: float, out: Path) -> dict[str, Any]:
    totals = {k: sum(getattr(c, k) for c in counts) for k in asdict(counts[0])}
    resources = {k: totals.pop(k) for k in ("phone_agents", "chat_agents")}
    return {
        "parcours_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "path": str(out),
        "scenario": model.scenario.model_dump(mode="json"),
        "personas": {p.name: p.model_dump(mode="json") for p in model.personas},
        "seed": model.scenario.population.seed,
        "shards": shards,
        "start": dt.datetime.fromtimestamp(model.t0, dt.UTC).isoformat(),
        "end": dt.datetime.fromtimestamp(model.t0 + model.horizon_s, dt.UTC).isoformat(),
        "counts": totals,
        "resources": resources | {"staff_per_store": model.scenario.stores.staff_per_store},
        "wall_time_s": round(wall, 3),
        "events_per_s": round(totals["events"] / wall, 1) if wall > 0 else None,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
