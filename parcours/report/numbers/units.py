"""What one run's figure rests on (its n), and the difference of two runs' figures over those units.

Run sets give a figure's spread from replicates (``intervals``, ``bounds``). A single run has one value
per figure, but each rests on units the run drew (journeys, calls, purchases, days): how many of them
says how far chance alone moves the figure. Four kinds, each with the textbook 95% interval:

- a **share**, k of n units: Wilson's score interval (``wilson``, as the realism check uses);
- a **rate**, k events over some days (lost journeys, sessions): the Poisson score interval of k
  (Barker 2002, The American Statistician 56:85-89, among the intervals that hold for k <= 5);
- a **mean** of one value per unit (basket, wait, channels of a day): Student's t over the units;
- a **total** per day of one amount per unit (revenue, lost value): a compound-Poisson normal interval,
  its variance the sum of the squared amounts.

The difference of two runs' shares or rates combines the two sides' intervals by the method of variance
estimates recovery (MOVER: Zou and Donner 2008, Statistics in Medicine 27:1693-1702); for two shares
it is Newcombe's hybrid score interval (Newcombe 1998, Statistics in Medicine 17:873-890, method 10).
Two means take Welch's interval, two totals the normal one. The two runs are taken as
independent samples: with the same seed they share their customers' draws and the true interval is
narrower (run sets with the same --seed give the paired one). Units are taken as independent too: the
sessions of one customer are not, so for counts of sessions the interval is on the narrow side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parcours.report.numbers.intervals import NONE, Estimate, mean_interval, welch_difference
from parcours.report.realism.stats import Z95, wilson

Kind = Literal["share", "rate", "mean", "total"]
EMPTY = np.zeros(0)
METHODS: dict[Kind, str] = {
    "share": "Newcombe's hybrid score interval (two Wilson intervals)",
    "rate": "MOVER over two Poisson score intervals",
    "mean": "Welch's t-interval over the units",
    "total": "normal interval of two compound-Poisson totals",
}


@dataclass(frozen=True)
class Units:
    """The units a figure of one run rests on: ``n`` of them, named by ``unit``."""

    kind: Kind
    unit: str  # what n counts: "purchase journeys", "calls", "purchases", ...
    n: int
    k: float = 0.0  # a share: units with the property; a rate: the events counted (then n = k)
    values: np.ndarray = field(default_factory=lambda: EMPTY)  # a mean, a total: one value per unit
    days: int = 1  # a rate, a total: per day over this many days

    @property
    def value(self) -> float:
        if self.kind == "share":
            return self.k / self.n if self.n else math.nan
        if self.kind == "rate":
            return self.k / self.days
        if self.kind == "mean":
            return float(self.values.mean()) if len(self.values) else math.nan
        return float(self.values.sum()) / self.days

    def spread(self) -> tuple[float, float]:
        """The figure's 95% interval as its kind gives it (a total's may cross 0: see ``estimate``)."""
        if self.kind == "share":
            return wilson(self.k, self.n)
        if self.kind == "rate":
            low, high = poisson_score(self.k)
            return low / self.days, high / self.days
        if self.kind == "mean":
            e = mean_interval(self.values)
            return e.ci_low, e.ci_high
        if not len(self.values):
            return math.nan, math.nan
        half = Z95 * math.sqrt(float(np.sum(self.values**2))) / self.days
        return self.value - half, self.value + half

    def estimate(self) -> Estimate:
        """The figure with its interval inside the figure's range (no share beyond [0, 1], no count < 0)."""
        if self.kind != "rate" and self.n == 0:
            return NONE
        low, high = self.spread()
        return Estimate(self.value, low if math.isnan(low) else max(low, 0.0), high, self.n)

    def as_json(self) -> dict[str, Any]:
        return {**self.estimate().as_json(), "n": self.n, "unit": self.unit}


def share(k: float, n: float, unit: str) -> Units:
    return Units("share", unit, int(n), k=float(k))


def rate(k: float, days: int, unit: str) -> Units:
    return Units("rate", unit, int(k), k=float(k), days=days)


def mean(values: np.ndarray, unit: str) -> Units:
    a = np.asarray(values, np.float64)
    return Units("mean", unit, len(a), values=a)


def total(values: np.ndarray, days: int, unit: str) -> Units:
    a = np.asarray(values, np.float64)
    return Units("total", unit, len(a), values=a, days=days)


def poisson_score(k: float, z: float = Z95) -> tuple[float, float]:
    """The score interval of a Poisson mean from one count k: k + z²/2 ± z·sqrt(k + z²/4)."""
    centre, half = k + z * z / 2, z * math.sqrt(k + z * z / 4)
    return max(centre - half, 0.0), centre + half


def mover(base: tuple[float, float, float], other: tuple[float, float, float]) -> tuple[float, float]:
    """The 95% interval of ``other - base`` from each side's (value, low, high): Zou and Donner's method
    of variance estimates recovery, Newcombe's hybrid score interval when both sides are Wilson's."""
    (v1, l1, u1), (v2, l2, u2) = base, other
    d = v2 - v1
    return d - math.hypot(v2 - l2, u1 - v1), d + math.hypot(u2 - v2, v1 - l1)


def difference(base: Units, other: Units) -> Estimate:
    """``other - base`` of one figure of two runs, with its 95% interval over their units."""
    if base.kind != other.kind:
        raise ValueError(f"a {base.kind} and a {other.kind} are not the same figure")
    n = min(base.n, other.n)
    if math.isnan(base.value) or math.isnan(other.value):
        return NONE
    if base.kind == "mean":
        return welch_difference(base.values, other.values)
    low, high = mover((base.value, *base.spread()), (other.value, *other.spread()))
    if math.isnan(low) or math.isnan(high):
        return Estimate(other.value - base.value, math.nan, math.nan, n)
    return Estimate(other.value - base.value, low, high, n)


def undecided(e: Estimate) -> bool:
    """The difference is not told apart from zero: its interval holds 0, or it has none (too few units)."""
    return not math.isnan(e.mean) and (e.holds_zero() or not e.has_interval)
