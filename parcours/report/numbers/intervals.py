"""Means over replicates with 95% intervals, and differences between two sides, paired when they can be.

A figure of one replicate is one observation; the interval of a mean is Student's t-interval over the
replicates (they are independent runs of the same scenario). A difference between two run sets whose
replicates used the same seeds is paired replicate by replicate (common random numbers: the noise both
sides share cancels); otherwise it is Welch's unpaired interval. One observation gives no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Student's t 0.975 quantile for 1..30 degrees of freedom (any statistics table, e.g. NIST/SEMATECH
#: e-Handbook of Statistical Methods, 2012, table 1.3.6.7.2).
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z975 = 1.959964
Values = Sequence[float] | np.ndarray


def t975(df: float) -> float:
    """The t quantile for a two-sided 95% interval; a Cornish-Fisher expansion beyond the table."""
    if df < 1:
        return math.nan
    if df <= len(T975) and float(df).is_integer():
        return T975[int(df) - 1]
    if df < len(T975):  # Welch's fractional degrees of freedom: between the table's neighbours
        lo = T975[int(df) - 1]
        hi = T975[int(df)]
        return lo + (hi - lo) * (df - int(df))
    z = Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Estimate:
    """A mean and its 95% interval (NaN bounds when there is no interval to give)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))

    def holds_zero(self) -> bool:
        """Zero is inside the interval: the difference is not told apart from noise."""
        return self.has_interval and self.ci_low <= 0.0 <= self.ci_high

    def as_json(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return None if math.isnan(v) else round(float(v), 6)

        return {"mean": num(self.mean), "ci_low": num(self.ci_low), "ci_high": num(self.ci_high)}


NONE = Estimate(math.nan, math.nan, math.nan, 0)


def _finite(values: Values) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return a[~np.isnan(a)]


def mean_interval(values: Values) -> Estimate:
    """The mean of the replicates' values and its t-interval (NaN values, figures a run lacks, left out)."""
    a = _finite(values)
    if len(a) == 0:
        return NONE
    mean = float(a.mean())
    if len(a) < 2:
        return Estimate(mean, math.nan, math.nan, 1)
    half = t975(len(a) - 1) * float(a.std(ddof=1)) / math.sqrt(len(a))
    return Estimate(mean, mean - half, mean + half, len(a))


def paired_difference(base: Values, other: Values) -> Estimate:
    """``other - base`` replicate by replicate (same seeds on both sides), then its t-interval."""
    a, b = np.asarray(base, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if len(a) != len(b):
        raise ValueError("a paired difference needs as many replicates on both sides")
    return mean_interval(b - a)


def welch_difference(base: Values, other: Values) -> Estimate:
    """``mean(other) - mean(base)`` with Welch's interval (independent sides, unequal variances)."""
    a, b = _finite(base), _finite(other)
    if len(a) == 0 or len(b) == 0:
        return NONE
    mean = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Estimate(mean, math.nan, math.nan, min(len(a), len(b)))
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Estimate(mean, mean, mean, min(len(a), len(b)))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t975(df) * se
    return Estimate(mean, mean - half, mean + half, min(len(a), len(b)))


def difference(base: Values, other: Values, *, paired: bool) -> Estimate:
    return paired_difference(base, other) if paired else welch_difference(base, other)
