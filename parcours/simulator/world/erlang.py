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
from functools import lru_cache

import numpy as np


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


def agents_needed(calls_per_hour: float, aht_s: float, *, target: float = 0.8, within_s: float = 20.0) -> int:
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


def service_level_a(agents: int, load: float, aht_s: float, patience_s: float, within_s: float) -> float:
    """Erlang A (M/M/c+M: callers hang up after an exponential patience): the share of offered calls
    answered within ``within_s`` (Garnett, Mandelbaum & Reiman 2002). Callers who hang up before
    ``within_s`` count as not answered in time.
    """
    if load <= 0:
        return 1.0
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = load * mu
    # stationary distribution of the birth-death chain, seen by arrivals (PASTA), in log space
    depth = int(60 + 10 * math.sqrt(load) + min(300.0, load * mu / theta))  # a queue longer is unlikely
    n = np.arange(agents + depth + 1)
    death = np.minimum(n, agents) * mu + np.maximum(n - agents, 0) * theta
    log_terms = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(death[1:]))])
    pi = np.exp(log_terms - log_terms.max())
    pi /= pi.sum()
    # f[k]: chance to be answered within s, starting with k callers ahead (RK4 on s in [0, within_s])
    k = np.arange(depth + 1)
    rate = agents * mu + k * theta  # the queue ahead moves by a service or a hang-up ahead

    def df(f: np.ndarray) -> np.ndarray:
        ahead = np.concatenate([[1.0], f[:-1]])
        return rate * (ahead - f) - theta * f

    f = np.zeros(depth + 1)
    steps = max(50, int(within_s * (rate[-1] + theta) * 2))
    h = within_s / steps
    for _ in range(steps):
        k1 = df(f)
        k2 = df(f + h / 2 * k1)
        k3 = df(f + h / 2 * k2)
        k4 = df(f + h * k3)
        f = f + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return float(pi[:agents].sum() + np.dot(pi[agents:], f[: len(pi) - agents]))


@lru_cache(maxsize=4096)
def agents_needed_a(
    calls_per_hour: float, aht_s: float, patience_s: float, *, target: float = 0.8, within_s: float = 20.0
) -> int:
    """The fewest agents that answer ``target`` of the offered calls within ``within_s``, callers
    hanging up after ``patience_s`` on average (Erlang A)."""
    load = calls_per_hour * aht_s / 3600.0
    if load <= 0:
        return 0
    lo = max(1, math.floor(load - 3 * math.sqrt(load)))  # Erlang A never needs more than Erlang C
    hi = agents_needed(calls_per_hour, aht_s, target=target, within_s=within_s)
    while lo < hi:
        mid = (lo + hi) // 2
        if service_level_a(mid, load, aht_s, patience_s, within_s) >= target:
            hi = mid
        else:
            lo = mid + 1
    return hi
