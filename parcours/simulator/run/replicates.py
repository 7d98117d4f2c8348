"""Replicates: the same scenario run R times with seeds derived from one root seed, as a run set.

Each replicate is an ordinary run (``simulate_run``, through the same executors, sharded the same
way), so replicate ``i`` of a set is exactly ``parcours simulate --seed SEED_i`` with the same
options. Its seed depends only on the root seed and ``i``, never on the scenario: the same replicate
index of two scenarios shares its random numbers, and their differences are paired.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from parcours.errors import ParcoursError
from parcours.output.manifest import RunSetManifest, SetCounts
from parcours.output.runset import RunSetWriter
from parcours.scenarios import Scenario, get_scenario
from parcours.simulator.run.options import ONE_PROCESS, Execution, Overrides
from parcours.simulator.run.simulate import OnProgress, shard_count, simulate_run

MAX_REPLICATES = 1000
#: Keeps replicate seeds apart from any other use of the root seed as SeedSequence entropy.
REPLICATE_KEY = 0x7265_706C  # "repl"

OnReplicate = Callable[[int, int], None]  # replicate index starting, replicate count


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """The seed of each replicate: a function of (root seed, index) only, stable across versions."""
    if root_seed < 0:
        raise ParcoursError(f"--seed: must be zero or positive, not {root_seed}")
    return [
        int(np.random.SeedSequence(root_seed, spawn_key=(REPLICATE_KEY, i)).generate_state(1, np.uint32)[0])
        for i in range(replicates)
    ]


def check_replicates(replicates: int) -> None:
    if not 1 <= replicates <= MAX_REPLICATES:
        raise ParcoursError(f"--replicates: must be between 1 and {MAX_REPLICATES}, not {replicates}")


def simulate_runset(
    scenario_name: str | Scenario,
    overrides: Overrides,
    out: Path,
    replicates: int,
    execution: Execution = ONE_PROCESS,
    *,
    overwrite: bool = False,
    on_replicate: OnReplicate | None = None,
    on_progress: OnProgress | None = None,
) -> RunSetManifest:
    """Write a finished run set at ``out``: ``replicates`` runs of the scenario; returns its manifest.

    The scenario is read once; every replicate runs with the same ``execution`` (so with the same shard
    count), and the set's manifest records its shards and workers.
    """
    check_replicates(replicates)
    scenario = scenario_name if isinstance(scenario_name, Scenario) else get_scenario(scenario_name)
    source = scenario.name if isinstance(scenario_name, Scenario) else scenario_name
    root = overrides.seed if overrides.seed is not None else scenario.population.seed
    seeds = replicate_seeds(root, replicates)
    shards = shard_count(overrides.apply(scenario), execution)  # a bad option fails before any folder
    began = time.perf_counter()
    counts = SetCounts()
    with RunSetWriter(out, overwrite=overwrite) as writer:
        for index, seed in enumerate(seeds):
            if on_replicate is not None:
                on_replicate(index, replicates)
            manifest = simulate_run(
                scenario,
                replace(overrides, seed=seed),
                writer.replicate(index),
                execution,
                on_progress=on_progress,
                source=source,
            )
            made = manifest.counts
            counts = SetCounts(
                counts.customers + made.customers,
                counts.events + made.events,
                counts.journeys + made.journeys,
            )
        header = RunSetManifest.of_seeds(
            seeds,
            scenario=source,
            scenario_name=manifest.scenario.name,
            root_seed=root,
            shards=shards,
            workers=execution.workers,
            counts=counts,
            wall_time_s=round(time.perf_counter() - began, 3),
        )
        writer.finish(header)
    return header
