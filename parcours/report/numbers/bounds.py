"""Intervals that respect their figure: one module for report, compare and explain.

A share cannot leave [0, 1], a count or an amount cannot go below 0; a symmetric t-interval around a
mean of three replicates does both (calls given up 5.8% [-1.2, 12.8]%). Here:

- a **share of one run** (k of n units) has Wilson's score interval, inside [0, 1] by construction;
- a **mean over replicates** of a share has its t-interval computed on the logit scale, of a count or
  an amount on the log scale, and taken back: the interval is inside the figure's range and
  asymmetric as small shares and counts are. When a replicate sits on the bound itself (a share of 0
  or 1, a count of 0), the transform does not exist; the t-interval is then cut at the bound. Cutting
  keeps the coverage: the true mean of a figure that cannot be negative is not negative, so every
  value cut away was impossible.
- a **difference** (between scenarios, or a capability's contribution) can be of either sign: its
  t-interval is left as it is (``SIGNED``).

Every interval says its n (the units a share rests on, or the replicates of a mean); a share of fewer
than ``MIN_UNITS`` units is *too few*: drawn as such, not as a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from parcours.report.numbers.intervals import NONE, Estimate, Values, mean_interval, t975
from parcours.report.realism.stats import wilson

Kind = Literal["share", "count", "signed"]
SHARE: Kind = "share"  # a proportion: [0, 1]
COUNT: Kind = "count"  # a count, an amount, a ratio of counts: [0, inf)
SIGNED: Kind = "signed"  # a difference: any sign
#: A rate over fewer units than this is "too few" on a page: its Wilson interval is wider than about
#: +-15 points at 50%, more than most differences a page is read for (the same threshold the
#: conversion heatmap already greys at; a convention, not a published rule).
MIN_UNITS = 30
#: Fewer replicates than this and compare and explain say so: with 2, Student's t is 12.7 and an
#: interval holds little but the sign of a large effect.
MIN_REPLICATES = 3


def unit_kind(unit: str) -> Kind:
    """The kind of a headline figure from its unit ("%" a share; "€", "s", "" counts and amounts)."""
    return SHARE if unit == "%" else COUNT


@dataclass(frozen=True)
class Rate:
    """k of n units with Wilson's interval; ``too_few`` below ``MIN_UNITS``."""

    k: float
    n: float
    value: float
    low: float
    high: float

    @property
    def too_few(self) -> bool:
        return self.n < MIN_UNITS

    def as_json(self) -> dict[str, float | int | bool | None]:
        def num(v: float) -> float | None:
            return None if math.isnan(v) else round(float(v), 6)

        return {
            "value": num(self.value),
            "ci_low": num(self.low),
            "ci_high": num(self.high),
            "k": int(self.k),
            "n": int(self.n),
            "too_few": self.too_few,
        }


def rate(k: float, n: float) -> Rate:
    """The share k/n with Wilson's 95% interval (NaN for n = 0)."""
    low, high = wilson(k, n)
    return Rate(float(k), float(n), k / n if n > 0 else math.nan, low, high)


def rates(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise value, Wilson low and high of k/n (NaN where n = 0), for charts."""
    k, n = np.asarray(k, np.float64), np.asarray(n, np.float64)
    out = np.full((3, *k.shape), np.nan)
    for index in np.ndindex(k.shape):
        r = rate(float(k[index]), float(n[index]))
        out[:, *index] = (r.value, r.low, r.high)
    return out[0], out[1], out[2]


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p / (1 - p)))


def _expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-x)))


Scale = Callable[[np.ndarray], np.ndarray]
#: Each bounded kind's scale, on which a t-interval cannot leave the range, and its way back.
SCALES: dict[Kind, tuple[Scale, Scale]] = {SHARE: (_logit, _expit), COUNT: (np.log, np.exp)}


def _inside(a: np.ndarray, kind: Kind) -> bool:
    if kind == SHARE:
        return bool(np.all((a > 0) & (a < 1)))
    return bool(np.all(a > 0))


def _cut(e: Estimate, kind: Kind) -> Estimate:
    if not e.has_interval or kind == SIGNED:
        return e
    high = min(e.ci_high, 1.0) if kind == SHARE else e.ci_high
    return Estimate(e.mean, max(e.ci_low, 0.0), high, e.n)


def bounded_mean(values: Values, kind: Kind) -> Estimate:
    """The mean over replicates with a 95% interval inside the figure's range (see the module)."""
    a = np.asarray(values, np.float64)
    a = a[~np.isnan(a)]
    if len(a) == 0:
        return NONE
    plain = mean_interval(a)
    if kind not in SCALES or len(a) < 2 or not _inside(a, kind):
        return _cut(plain, kind)
    forward, back = SCALES[kind]
    with np.errstate(over="ignore", divide="ignore"):
        x = forward(a)
    half = t975(len(a) - 1) * float(np.std(x, ddof=1)) / math.sqrt(len(a))
    centre = float(np.mean(x))
    with np.errstate(over="ignore", divide="ignore"):
        ends = back(np.array([centre - half, centre + half]))
    low, high = float(ends[0]), float(ends[1])
    if not (math.isfinite(low) and math.isfinite(high)):  # beyond floating point: the cut one says more
        return _cut(plain, kind)
    # The interval is about the mean on the transformed scale; it keeps the plain mean inside.
    return Estimate(plain.mean, min(low, plain.mean), max(high, plain.mean), len(a))


def within(e: Estimate, kind: Kind) -> bool:
    """The interval does not cross the figure's bounds (a test and a guard for every page)."""
    if not e.has_interval or kind == SIGNED:
        return True
    if e.ci_low < 0:
        return False
    return not (kind == SHARE and e.ci_high > 1)


def few_replicates(replicates: int) -> str:
    """A warning when replicates are fewer than ``MIN_REPLICATES`` (empty otherwise)."""
    if replicates >= MIN_REPLICATES:
        return ""
    return (
        f"only {replicates} replicate{'s' if replicates != 1 else ''}: an interval needs at least 2 and "
        f"says little under {MIN_REPLICATES} (Student's t is {t975(max(replicates - 1, 1)):.1f} with 2); "
        f"use --replicates {MIN_REPLICATES} or more"
    )
