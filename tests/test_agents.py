"""The desk's queue (``Agents``) against the SimPy model it replaces: a PriorityResource whose roster
process holds off-shift slots ahead of the callers, one SimPy process per caller, background callers
included. Every caller must be answered at the same float moment, or hang up, in both."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy

from parcours.simulator.world.agents import Agents

Call = tuple[float, float, float]  # arrival, patience, service (s)


def with_simpy(
    capacity: int, roster_s: list[float], agents: list[int], calls: list[Call], *, lazy: bool
) -> dict[int, float | None]:
    """The reference: the desk as it was built on SimPy (staffing.follow_roster and wait_for)."""
    env = simpy.Environment()
    answered: dict[int, float | None] = {}
    made: list[simpy.PriorityResource] = []

    def follow(desk: simpy.PriorityResource) -> Generator[simpy.Event, Any, None]:
        held: list[Any] = []
        for at, n in zip(roster_s, agents, strict=True):
            if at > env.now:
                yield env.timeout(at - env.now)
            off = desk.capacity - n
            while len(held) < off:
                held.append(desk.request(priority=-1))
            while len(held) > off:
                slot = held.pop()
                if slot.triggered:
                    desk.release(slot)
                else:
                    slot.cancel()

    def desk() -> simpy.PriorityResource:
        if not made:
            made.append(simpy.PriorityResource(env, capacity))
            env.process(follow(made[0]))
        return made[0]

    def caller(i: int, at: float, patience: float, service: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        with desk().request() as request:
            got = yield request | env.timeout(patience)
            answered[i] = env.now if request in got else None
            if request in got:
                yield env.timeout(service)

    if not lazy:
        desk()
    for i, call in enumerate(calls):
        env.process(caller(i, *call))
    env.run()
    return answered


def random_desk(seed: int) -> tuple[int, list[float], list[int], list[Call]]:
    rng = np.random.default_rng(seed)
    hours = 24
    if seed % 3:
        roster_s = (np.arange(hours) * 3600.0).tolist()
    else:  # uneven changes (a DST day, a late opening)
        roster_s = np.sort(rng.random(hours) * hours * 3600.0).tolist()
    agents = rng.integers(0, 8, hours).tolist()
    n = int(rng.integers(100, 800))
    at = np.sort(rng.random(n) * hours * 3600.0).tolist()
    calls = list(zip(at, rng.exponential(240.0, n).tolist(), rng.exponential(500.0, n).tolist(), strict=True))
    return max(1, *agents), roster_s, agents, calls


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("lazy", [False, True], ids=["made-at-start", "made-by-first-caller"])
def test_same_answers_as_the_simpy_desk(seed: int, lazy: bool) -> None:
    capacity, roster_s, agents, calls = random_desk(seed)
    want = with_simpy(capacity, roster_s, agents, calls, lazy=lazy)
    desk = Agents(capacity, roster_s, agents, started=not lazy)
    got = {i: desk.arrive(*call) for i, call in enumerate(calls)}
    assert got == want
    assert any(t is None for t in got.values()) and any(t is not None for t in got.values())


@pytest.mark.parametrize("seed", range(20))
def test_background_callers_take_agents_as_simpy_callers_did(seed: int) -> None:
    """Four calls in five come from arrays (no event of theirs is written); the fifth see the same desk."""
    capacity, roster_s, agents, calls = random_desk(seed + 100)
    want = with_simpy(capacity, roster_s, agents, calls, lazy=False)
    outside = [c for i, c in enumerate(calls) if i % 5]
    desk = Agents(
        capacity,
        roster_s,
        agents,
        ([c[0] for c in outside], [c[2] for c in outside], [c[1] for c in outside]),
    )
    got = {i: desk.arrive(*call) for i, call in enumerate(calls) if i % 5 == 0}
    assert got == {i: want[i] for i in got}


def test_an_agent_going_off_shift_finishes_the_call() -> None:
    desk = Agents(2, [0.0, 100.0], [2, 1])
    assert desk.arrive(10.0, 1.0, 500.0) == 10.0  # busy until 510
    assert desk.arrive(20.0, 1.0, 50.0) == 20.0  # busy until 70
    # at 100 one agent leaves: the one free since 70; the other finishes its call at 510
    assert desk.arrive(200.0, 400.0, 10.0) == 510.0
    assert desk.arrive(300.0, 100.0, 10.0) is None  # waits behind the first: gone at 400
