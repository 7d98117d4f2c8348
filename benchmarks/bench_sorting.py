"""The planning's sorts (simulator/model/sorting.py) against NumPy's own, on the rows a real plan sorts.

Plans one shard of a run (as ``parcours simulate`` cuts it), keeps the arrays the plan hands to each
sort, then times each sort both ways (thread CPU seconds, the best of a few rounds) and checks they give
the same order.

    python benchmarks/bench_sorting.py -n 1000000 --days 28 --shards 2
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from parcours.simulator.model import sorting
from parcours.simulator.model.population import draw_customers, shard_ids
from parcours.simulator.model.rng import Streams
from parcours.simulator.plan import campaigns, day
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.simulate import resolve


def best(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.thread_time()
        fn()
        times.append(time.thread_time() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("-s", "--scenario", default="omnichannel")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    kept: list[tuple[str, tuple[np.ndarray, ...], Callable[..., np.ndarray], Callable[..., np.ndarray]]] = []

    def keep(where: Any, name: str, label: str, numpy_way: Callable[..., np.ndarray]) -> None:
        ours = getattr(sorting, name)

        def spy(*arrays: np.ndarray) -> np.ndarray:
            kept.append((label, tuple(a.copy() for a in arrays), ours, numpy_way))
            return ours(*arrays)

        setattr(where, name, spy)

    keep(day, "argsort_ints", "journeys by id", lambda k: np.argsort(k, kind="stable"))
    keep(day, "lexsort_groups", "sessions by (journey, start)", lambda v, g: np.lexsort((v, g)))
    keep(day, "argsort_floats", "sessions by start", lambda v: np.argsort(v, kind="stable"))
    keep(campaigns, "argsort_floats", "message events by time", lambda v: np.argsort(v, kind="stable"))

    model = resolve(args.scenario, Overrides(customers=args.customers, seed=args.seed, days=args.days))
    scenario = model.scenario
    streams = Streams(scenario.population.seed)
    ids = shard_ids(scenario.population.customers, scenario.stores.customers_per_store, args.shards, 0)
    file = draw_customers(model, streams, ids)
    _, _, messages, customers = day.plan(model, streams, file)
    campaigns.message_events(model, streams, customers, messages)

    print(
        f"shard 0 of {args.shards}, {len(file):,} customers, {args.days} days"
        f" (thread CPU s, best of {args.rounds})"
    )
    for label, arrays, ours, numpy_way in kept:
        assert (ours(*arrays) == numpy_way(*arrays)).all(), label
        theirs_s = best(lambda: numpy_way(*arrays), args.rounds)  # noqa: B023
        ours_s = best(lambda: ours(*arrays), args.rounds)  # noqa: B023
        print(f"  {label} ({len(arrays[0]):,} rows): NumPy {theirs_s:.3f} s, sorting.py {ours_s:.3f} s")


if __name__ == "__main__":
    main()
