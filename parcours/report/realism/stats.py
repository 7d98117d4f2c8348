"""What a run's figure is worth: its value with a 95% interval, and how it stands against a range.

A figure is *outside* a published range only when its whole 95% interval is (Wilson's interval for a
proportion, a normal approximation for a ratio of sums); when the interval overlaps the range but is
not narrower than it, the run has too few observations to say either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054

INSIDE = "inside"
OUTSIDE = "outside"
TOO_FEW = "too few to check"
NOT_CHECKABLE = "not checkable on this run"
SHOWN = "shown"
INPUT = "input"


@dataclass(frozen=True)
class Measure:
    """A figure of the run: value, 95% interval, and what it was computed from."""

    value: float
    low: float
    high: float
    numerator: float
    denominator: float
    observations: int  # how many units the interval rests on (sessions, purchases, calls...)
    exact: bool = False  # a count checked exactly (no sampling interval)
    unavailable: str = ""  # why this run cannot give the figure as its source defines it

    @property
    def available(self) -> bool:
        return not self.unavailable


def unavailable(reason: str) -> Measure:
    return Measure(math.nan, math.nan, math.nan, math.nan, math.nan, 0, unavailable=reason)


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for k successes out of n (NaN, NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = centre - half, centre + half
    return (0.0 if k <= 0 else max(0.0, low)), (1.0 if k >= n else min(1.0, high))


def proportion(k: float, n: float) -> Measure:
    """k of n units, with Wilson's interval."""
    low, high = wilson(k, n)
    return Measure(k / n if n else math.nan, low, high, float(k), float(n), int(n))


def weighted_share(weights: np.ndarray, selected: np.ndarray) -> Measure:
    """The share of ``weights`` (amounts, one per unit) on ``selected`` units, with a normal interval.

    The ratio of two sums over the same units; its variance by linearisation (delta method):
    sum((w_i * (s_i - R))^2) / (sum w_i)^2.
    """
    weights = np.asarray(weights, np.float64)
    total = float(weights.sum())
    if not len(weights) or total <= 0:
        return Measure(math.nan, math.nan, math.nan, 0.0, total, len(weights))
    part = float(weights[selected].sum())
    ratio = part / total
    se = math.sqrt(float(np.sum((weights * (selected - ratio)) ** 2))) / total
    return Measure(ratio, max(0.0, ratio - Z95 * se), min(1.0, ratio + Z95 * se), part, total, len(weights))


def exact_count(count: int, units: int = 0) -> Measure:
    """A count that must equal a published value exactly (a consistency check: no interval)."""
    return Measure(float(count), float(count), float(count), float(count), float(units), units, exact=True)


def shown(value: float, numerator: float = math.nan, denominator: float = math.nan) -> Measure:
    """A figure shown next to published ones without being checked."""
    n = int(denominator) if not math.isnan(denominator) else 0
    return Measure(value, math.nan, math.nan, numerator, denominator, n)


def verdict(m: Measure, low: float, high: float) -> str:
    """inside, outside or too few to check, by the figure's 95% interval against [low, high]."""
    if not m.available:
        return NOT_CHECKABLE
    if m.exact:
        return INSIDE if low <= m.value <= high else OUTSIDE
    if math.isnan(m.low) or math.isnan(m.high):
        return TOO_FEW
    if m.high < low or m.low > high:
        return OUTSIDE
    if m.high - m.low >= high - low:
        return TOO_FEW
    return INSIDE
