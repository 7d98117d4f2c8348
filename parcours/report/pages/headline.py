"""The headline table of runs, and the cells it shares with the run sets' table: a figure with its
interval and its n, a difference with its interval, greyed and marked ~ when a sample of that size
does not tell it from zero."""

from __future__ import annotations

import math
from collections.abc import Sequence

from parcours.report.numbers import units
from parcours.report.numbers.intervals import Estimate
from parcours.report.numbers.kpis import KPIS, Kpi, fmt
from parcours.report.numbers.summary import RunSummary
from parcours.report.numbers.units import Units, undecided
from parcours.report.pages.html import esc, table, tr

NOISE_STYLE = "color:#999;font-style:italic"
HOLDS_ZERO = "the 95% interval holds 0: not told apart from noise"
NO_INTERVAL = "too few units for an interval: not told apart from noise"


def bounds_text(kpi: Kpi, e: Estimate, signed: bool) -> str:
    """``[low, high]`` in the figure's unit (points for a difference of shares); empty without one."""
    if not e.has_interval:
        return ""
    if kpi.unit == "%":
        lo, hi = e.ci_low * 100, e.ci_high * 100
        digits = 1 if max(abs(lo), abs(hi)) >= 1 else 2
        sign = "+" if signed else ""
        return f"[{lo:{sign}.{digits}f}, {hi:{sign}.{digits}f}]{' pts' if signed else ' %'}"
    return f"[{fmt(kpi, e.ci_low, signed)}, {fmt(kpi, e.ci_high, signed)}]"


def bounds(kpi: Kpi, e: Estimate, signed: bool) -> str:
    text = bounds_text(kpi, e, signed)
    return f"<br><small>{esc(text)}</small>" if text else ""


def difference(kpi: Kpi, e: Estimate, *, without_interval: str = "") -> str:
    """A difference and its interval; greyed when the interval holds 0, or when there is none and
    ``without_interval`` says why (single runs: too few units)."""
    if kpi.unit == "%" and not math.isnan(e.mean):
        points = e.mean * 100
        shown = f"{points:+.{1 if abs(points) >= 1 else 2}f} pts"
    else:
        shown = fmt(kpi, e.mean, signed=True)
    cell = esc(shown) + bounds(kpi, e, signed=True)
    if e.holds_zero() or (without_interval and undecided(e)):
        title = HOLDS_ZERO if e.has_interval else NO_INTERVAL
        if not e.has_interval:
            cell += f"<br><small>{esc(without_interval)}</small>"
        cell = f'<span class="holds-zero" style="{NOISE_STYLE}" title="{title}">~ {cell}</span>'
    return "#" + cell


def n_text(u: Units) -> str:
    """What a figure of one run rests on, in words: "13 of n = 325 purchase journeys", "n = 6 calls"."""
    if u.kind == "share":
        return f"{u.k:,.0f} of n = {u.n:,} {u.unit}"
    days = f" in {u.days} days" if u.days > 1 else " in 1 day"
    return f"n = {u.n:,} {u.unit}" + (days if u.kind in ("rate", "total") else "")


def figure(kpi: Kpi, u: Units) -> str:
    """A figure of one run, its 95% interval over its units and its n."""
    lines = [bounds_text(kpi, u.estimate(), signed=False), n_text(u)]
    return f"#{esc(fmt(kpi, u.value))}<br><small>{'<br>'.join(esc(t) for t in lines if t)}</small>"


#: What a single runs' table says under itself (its intervals are over units, not replicates).
LEGEND = (
    "Under each figure: its 95% interval over the units it rests on, and n, those units (Wilson's "
    "interval for a share, the Poisson score interval for a count per day, Student's t for a mean, a "
    "normal interval for a total of amounts)."
)
DIFFERENCES = (
    " Under each difference: its 95% interval (Newcombe's hybrid score interval for shares, the same "
    "method over Poisson intervals for counts, Welch's for means, a normal one for totals), each run "
    "taken as an independent sample of its units."
)
NOISE = (
    " ~ Greyed differences: their interval holds 0, or there are too few units for one: runs of "
    "this size do not tell them apart from noise. Runs made with the same seed share their customers' "
    "draws, so these intervals are on the wide side; for paired intervals over replicates, compare run "
    "sets (simulate --replicates) made with the same --seed."
)


def kpi_table(runs: Sequence[RunSummary]) -> str:
    """Headline figures of single runs, each with its n; several runs: each against the first."""
    head = ["figure", *(r.label for r in runs), *(f"{r.label} vs {runs[0].label}" for r in runs[1:])]
    rows = []
    for k in KPIS:
        counted = [k.units(r) for r in runs]
        shown = [figure(k, u) for u in counted]
        diffs = [
            difference(k, units.difference(counted[0], u), without_interval="no interval: too few units")
            for u in counted[1:]
        ]
        rows.append(tr(esc(k.label), *shown, *diffs))
    legend = LEGEND + (DIFFERENCES + NOISE if len(runs) > 1 else "")
    style = f'<span style="{NOISE_STYLE}">~ Greyed differences</span>'
    text = esc(legend).replace("~ Greyed differences", style)
    return table(head, rows) + f"<p><small>{text}</small></p>"
