"""What an explanation can tell at its size, and what a capability is worth a year.

- ``detectable``: the smallest effect the runs tell from zero, per figure, in the figure's unit: the
  half-width of a contribution's 95% interval over the replicates (Student's t times the typical
  spread of the contributions between replicates, over the square root of their number). An effect
  smaller than that holds 0 in its interval.
- ``measurable``: a contribution whose interval excludes 0. One that does not was too small to see at
  this size, or nothing at all; it is never shown as "worth 0".
- ``customers_to_measure``: an interval's half-width shrinks as one over the square root of the
  customers (per-customer rates directly; per-day totals grow with the customers while their noise
  grows with its square root), so an effect of the size seen would need about
  ``customers * (half-width / |mean|)^2`` customers at the same replicate count.
- ``per_year``: a contribution to gross margin per day (net revenue times the gross margin rate, less
  service costs), times the days of a year, is the most the retailer should pay for the capability a
  year; an interval scales with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from parcours.report.numbers.bounds import few_replicates
from parcours.report.numbers.intervals import Estimate, t975
from parcours.strategy.explain import FIGURES, MARGIN, Explanation

#: The largest population parcours simulates (a suggestion beyond it is capped and says so).
MAX_CUSTOMERS = 1_000_000_000


def half_width(per_replicate: np.ndarray) -> float:
    """Half-width of the 95% t-interval of the mean of ``per_replicate`` (NaN under 2 replicates)."""
    a = np.asarray(per_replicate, np.float64)
    a = a[~np.isnan(a)]
    if len(a) < 2:
        return math.nan
    return t975(len(a) - 1) * float(np.std(a, ddof=1)) / math.sqrt(len(a))


def detectable(contributions: np.ndarray, total: np.ndarray) -> float:
    """The smallest effect told from zero, from contributions (k, replicates) and the total (replicates).

    The spread is the root mean square of the contributions' spreads, over those that vary at all (a
    capability that never acted in these runs has none); with none, the total's."""
    r = contributions.shape[-1] if contributions.size else len(total)
    if r < 2:
        return math.nan
    spreads = [float(np.std(c, ddof=1)) for c in contributions if np.ptp(c) > 0]
    if not spreads:
        spreads = [float(np.std(total, ddof=1))]
    return t975(r - 1) * math.sqrt(float(np.mean(np.square(spreads)))) / math.sqrt(r)


def measurable(e: Estimate) -> bool:
    """Told apart from zero: the 95% interval excludes 0."""
    return e.has_interval and not e.holds_zero()


def never_acted(per_replicate: np.ndarray) -> bool:
    """Exactly zero in every replicate: the capability did not change this figure in any run."""
    return bool(np.all(np.asarray(per_replicate) == 0.0))


def customers_to_measure(customers: int, e: Estimate) -> int | None:
    """About how many customers would tell an effect of this size from zero (None: nothing to scale)."""
    if not e.has_interval or e.mean == 0.0 or math.isnan(e.mean):
        return None
    half = (e.ci_high - e.ci_low) / 2
    needed = customers * (half / abs(e.mean)) ** 2 * 1.1  # a tenth more: the mean itself is uncertain
    return min(_round_up(needed), MAX_CUSTOMERS)


def _round_up(n: float) -> int:
    """Up to two significant digits (23,456 -> 24,000)."""
    if n <= 100:
        return 100
    step = 10 ** (int(math.log10(n)) - 1)
    return int(math.ceil(n / step) * step)


def per_year(e: Estimate, days_per_year: float) -> Estimate:
    return Estimate(e.mean * days_per_year, e.ci_low * days_per_year, e.ci_high * days_per_year, e.n)


@dataclass(frozen=True)
class Reading:
    """What one capability's contribution to one figure says at this size."""

    estimate: Estimate
    measurable: bool
    never_acted: bool
    customers_to_measure: int | None

    def document(self) -> dict[str, Any]:
        return {
            "measurable": self.measurable,
            "never_acted": self.never_acted,
            "customers_to_measure": None if self.measurable else self.customers_to_measure,
        }


def reading(e: Estimate, per_replicate: np.ndarray, customers: int) -> Reading:
    return Reading(e, measurable(e), never_acted(per_replicate), customers_to_measure(customers, e))


def advice(r: Reading, customers: int, replicates: int, days: int) -> str:
    """In words: why a contribution is not measured, and what run would measure it."""
    if r.measurable:
        return "measured"
    if r.never_acted:
        more = (
            "" if days > 1 else "; after-sale capabilities (returns) act days after a purchase: try --days 7"
        )
        bigger = min(_round_up(customers * 10.0), MAX_CUSTOMERS)
        return (
            f"no effect in any run: it never acted at {customers:,} customers over {days} day(s); try "
            f"{bigger:,} customers{more}"
        )
    if r.customers_to_measure is None:
        return f"not told from zero with {replicates} replicates"
    capped = (
        " (parcours's limit: the effect may be too small to matter)"
        if r.customers_to_measure >= MAX_CUSTOMERS
        else ""
    )
    return (
        f"not told from zero at {customers:,} customers; an effect of the size seen needs about "
        f"{r.customers_to_measure:,} customers ({replicates} replicates){capped}"
    )


def readings(x: Explanation) -> list[list[Reading]]:
    """Per capability i, then figure n: what its contribution says at this size."""
    est, phi = x.estimates(), x.per_replicate()["shapley"]
    return [
        [reading(est.shapley[i][n], phi[i][:, n], x.customers) for n in range(len(FIGURES))]
        for i in range(len(x.factors))
    ]


def margins(x: Explanation) -> list[Estimate]:
    """Per capability: its contribution to gross margin less service costs, per year."""
    return [per_year(e[MARGIN], x.economics.days_per_year) for e in x.estimates().shapley]


def detectables(x: Explanation) -> list[float]:
    a = x.per_replicate()
    return [detectable(a["shapley"][:, :, n], a["total"][:, n]) for n in range(len(FIGURES))]


def warnings(x: Explanation) -> list[str]:
    out = [few_replicates(len(x.seeds))] if few_replicates(len(x.seeds)) else []
    read = readings(x)
    idle = [f.name for f, r in zip(x.factors, read, strict=True) if not any(c.measurable for c in r)]
    if idle:
        out.append(
            f"too small to measure at {x.customers:,} customers: {', '.join(idle)} (no figure tells "
            "their contribution from zero; see 'What this size can tell')"
        )
    return out
