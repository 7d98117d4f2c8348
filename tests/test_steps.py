"""The engine's shortcuts against what they replace: light processes (``steps.start``) against
``env.process``, and the scalar opening hours (``state.Hours``) against ``Opening``'s arrays. Each must
give the same moments, in the same order, to the last bit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from parcours.scenarios import get_scenario
from parcours.simulator.model.inputs import build_model
from parcours.simulator.world.state import Hours
from parcours.simulator.world.steps import start

Log = list[tuple[float, int, str]]
Starter = Callable[[simpy.Environment, Generator[simpy.Event, Any, None], float], None]


def customer(env: simpy.Environment, log: Log, i: int, waits: list[float], desk: simpy.Resource) -> Generator:
    """Waits, a shared resource held for a while (FIFO, two slots), more waits: every resumption logged."""
    log.append((env.now, i, "start"))
    for k, wait in enumerate(waits):
        yield env.timeout(wait)
        log.append((env.now, i, f"wait {k}"))
        if k == 1:
            with desk.request() as request:
                yield request
                log.append((env.now, i, "served"))
                yield env.timeout(wait / 2)
            log.append((env.now, i, "released"))


def with_process(env: simpy.Environment, gen: Generator, at_s: float) -> None:
    def delayed() -> Generator:
        if at_s > env.now:
            yield env.timeout(at_s - env.now)
        yield from gen

    env.process(delayed())


def with_start(env: simpy.Environment, gen: Generator, at_s: float) -> None:
    start(env, gen, at_s=at_s)


def day(starter: Starter, seed: int) -> Log:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=2)
    log: Log = []

    def clock() -> Generator:  # customers start in slices, as the shard's clock starts them
        for slice_ in range(6):
            for i in range(slice_ * 20, slice_ * 20 + 20):
                at = env.now + (0.0 if i % 7 == 0 else float(rng.uniform(0, 600)))  # some start at once
                waits = rng.exponential(60.0, 3).round(1 if i % 3 == 0 else 9).tolist()  # ties, some
                starter(env, customer(env, log, i, waits, desk), at)
            log.append((env.now, -1, "clock"))  # a process started now runs after its starter's step
            yield env.timeout(600.0)

    env.process(clock())
    env.run()
    return log


@pytest.mark.parametrize("seed", range(20))
def test_light_processes_resume_at_the_same_moments_in_the_same_order(seed: int) -> None:
    reference = day(with_process, seed)
    assert len(reference) == 120 * 6 + 6
    assert day(with_start, seed) == reference


@pytest.mark.parametrize("name", ["omnichannel", "multichannel"])
def test_scalar_opening_hours_answer_as_the_arrays_do(name: str) -> None:
    scenario = get_scenario(name)
    days = 9  # a Sunday (stores closed) inside, and times past the run
    calendar = scenario.calendar.model_copy(update={"start": dt.date(2026, 11, 5), "days": days})
    model = build_model(scenario.model_copy(update={"calendar": calendar}), "test")
    rng = np.random.default_rng(3)
    for opening in model.opening.values():
        hours = Hours(opening)
        ends = opening.hour_s[:, 0]
        at = np.concatenate(
            [
                rng.uniform(-3600.0, (days + 2) * 86400.0, 3000),
                opening.opens_s[:days],
                opening.closes_s[:days],
                ends,
            ]
        )
        at = at[np.isfinite(at)]
        u = rng.random(len(at))
        is_open = opening.is_open(at)
        next_opening = opening.next_opening(at)
        moved = opening.move(at, u)
        for k in range(len(at)):
            t = float(at[k])
            assert hours.is_open(t) == bool(is_open[k])
            expected = float(next_opening[k])
            assert hours.next_opening(t) == (expected if np.isfinite(expected) else None)
            expected = float(moved[k])
            assert hours.move(t, float(u[k])) == (expected if np.isfinite(expected) else None)
        # alone or in small batches (the search for the next day stops as soon as each has found one)
        for first in range(0, 600, 3):
            part = slice(first, first + 3)
            assert np.array_equal(opening.move(at[part], u[part]), moved[part])
            assert np.array_equal(opening.next_opening(at[part]), next_opening[part])
