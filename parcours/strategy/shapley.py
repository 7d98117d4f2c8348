"""Shapley values of the capabilities, from the figures of capability combinations (coalitions).

A coalition is a bit mask over the k factors: bit i set means factor i has TO's value. ``v[mask]`` is
an array of figures per replicate (shape: replicates x figures); every function here works replicate by
replicate, so that intervals over replicates come afterwards. Shapley values add up exactly to
``v[full] - v[empty]`` in each replicate, exact or sampled (each permutation telescopes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

Values = Mapping[int, np.ndarray]


@dataclass(frozen=True)
class Coalitions:
    """Which coalitions to run: all 2^k of them (exact), or the prefixes of sampled permutations."""

    k: int
    permutations: tuple[tuple[int, ...], ...] = ()  # empty: exact

    @property
    def exact(self) -> bool:
        return not self.permutations

    @property
    def full(self) -> int:
        return (1 << self.k) - 1

    def coalitions(self) -> list[int]:
        """Every coalition the Shapley values and each factor's effect alone need, smallest first."""
        needed = {0, self.full} | {1 << i for i in range(self.k)}
        if self.exact:
            needed |= set(range(1 << self.k))
        for perm in self.permutations:
            mask = 0
            for i in perm:
                mask |= 1 << i
                needed.add(mask)
        return sorted(needed, key=lambda m: (bin(m).count("1"), m))


def plan(k: int, *, exact_up_to: int, permutations: int, seed: int) -> Coalitions:
    """Exact when k <= exact_up_to; otherwise ``permutations`` sampled orders, each with its reverse
    (antithetic pairs: a factor early in one is late in the other, which halves much of the noise)."""
    if k <= exact_up_to:
        return Coalitions(k)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5348_4150,)))  # "SHAP"
    orders: list[tuple[int, ...]] = []
    while len(orders) < max(2, permutations):
        perm = tuple(int(i) for i in rng.permutation(k))
        orders += [perm, perm[::-1]]
    return Coalitions(k, tuple(orders[: max(2, permutations)]))


def _weight(k: int, size: int) -> float:
    return math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)


def shapley(p: Coalitions, v: Values) -> np.ndarray:
    """Each factor's Shapley value, shape (k, *v's shape)."""
    shape = next(iter(v.values())).shape
    out = np.zeros((p.k, *shape))
    if p.exact:
        for i in range(p.k):
            bit = 1 << i
            for mask in range(1 << p.k):
                if not mask & bit:
                    out[i] += _weight(p.k, bin(mask).count("1")) * (v[mask | bit] - v[mask])
        return out
    for perm in p.permutations:
        mask = 0
        for i in perm:
            out[i] += v[mask | 1 << i] - v[mask]
            mask |= 1 << i
    return out / len(p.permutations)


def alone(p: Coalitions, v: Values) -> np.ndarray:
    """Each factor's effect switched on by itself, from FROM: shape (k, *v's shape)."""
    return np.stack([v[1 << i] - v[0] for i in range(p.k)]) if p.k else np.zeros((0, *v[0].shape))
