"""Erlang C: how many agents a queue needs for a service level (M/M/c, calls wait, nobody hangs up).

The workforce planner's textbook formula (Gans, Koole & Mandelbaum 2003, "Telephone call centers:
tutorial, review, and research prospects", M&SOM 5(2)): with ``load`` erlangs offered (arrivals per
second x mean handling time in seconds) to ``agents`` servers, the chance that a call waits is
Erlang C, and the share answered within ``t`` seconds is ``1 - C * exp(-(agents - load) * t / aht)``.
Erlang C ignores abandonment; callers who hang up shorten the queue for the others, so a centre
sized this way answers a little more than the target in time (Garnett, Mandelbaum & Reiman 2002).
"""

from __future__ import annotations

import math


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of ``agents`` servers offered ``load`` erlangs (stable recursion)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """The probability that an arriving call waits; 1 when the agents cannot keep up."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def service_level(agents: int, load: float, aht_s: float, within_s: float) -> float:
    """Share of calls answered within ``within_s`` seconds."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * within_s / aht_s)


def agents_needed(
    calls_per_hour: float, aht_s: float, *, target: float = 0.8, within_s: float = 20.0
) -> int:
    """The fewest agents that answer ``target`` of the calls within ``within_s`` seconds."""
    if not 0.0 < target < 1.0:
        raise ValueError("target must be between 0 and 1")
    load = calls_per_hour * aht_s / 3600.0
    if load <= 0:
        return 0
    agents = max(1, math.floor(load) + 1)
    while service_level(agents, load, aht_s, within_s) < target:
        agents += 1
    return agents
