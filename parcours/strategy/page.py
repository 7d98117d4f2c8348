"""An explanation as JSON (for scripts) and as one self-contained HTML page with a waterfall per figure."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from parcours import __version__
from parcours.report.numbers.intervals import Estimate
from parcours.report.pages.html import CSS, esc, table, tr
from parcours.report.plots.style import figure, png_base64
from parcours.strategy.explain import FIGURES, Explanation, Figure

FORMAT = "parcours-explain"
FORMAT_VERSION = 1
UP, DOWN, ENDS, NOISE = "#4e79a7", "#f28e2b", "#9c9c9c", "#d0d0d0"

ABOUT = (
    "Each run of FROM is repeated with the capabilities that differ switched one combination at a time "
    "to TO's setting, every combination on the same replicate seeds (common random numbers). A "
    "capability's contribution is its Shapley value: its effect averaged over every order in which the "
    "capabilities could be switched on, so that what two capabilities do together is shared between "
    "them and the contributions add up to the total. 'Alone' is its effect switched on by itself from "
    "FROM; 'joint' is what the capabilities add together beyond their effects alone (already inside the "
    "contributions). 'Interaction' here is what no capability carries: zero up to rounding when FROM and "
    "TO differ only in capabilities, otherwise what their other settings change. Intervals are 95% "
    "t-intervals over the replicates; a contribution whose interval holds 0 is greyed."
)


def _signed(f: Figure, v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if f.unit == "%":
        return f"{v * 100:+.2f} pts"
    if f.unit == "€":
        return f"{'-' if v < 0 else '+'}€{abs(v):,.0f}"
    return f"{v:+.3f}" if abs(v) < 10 else f"{v:+,.1f}"


def _value(f: Figure, v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if f.unit == "%":
        return f"{v:.2%}"
    if f.unit == "€":
        return f"€{v:,.0f}"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"


def _interval(f: Figure, e: Estimate, signed: bool = True) -> str:
    show = _signed if signed else _value
    if not e.has_interval:
        return show(f, e.mean)
    return f"{show(f, e.mean)} [{show(f, e.ci_low)}, {show(f, e.ci_high)}]"


def document(x: Explanation) -> dict[str, Any]:
    """The JSON: per figure the total, each capability's contribution and the interaction, which add up."""
    est = x.estimates()
    figures: dict[str, Any] = {}
    for n, f in enumerate(FIGURES):
        contributions = [
            {
                "capability": factor.name,
                "from": factor.from_value,
                "to": factor.to_value,
                **est.shapley[i][n].as_json(),
                "alone": est.alone[i][n].as_json(),
            }
            for i, factor in enumerate(x.factors)
        ]
        figures[f.key] = {
            "label": f.label,
            "unit": f.unit,
            "from": est.from_[n].as_json(),
            "to": est.to[n].as_json(),
            "total": est.total[n].as_json(),
            "contributions": contributions,
            "interaction": est.interaction[n].as_json(),
            "joint": est.joint[n].as_json(),
        }
    return {  # "format_version" first: output/paths.py knows a parcours JSON document by how it begins
        "format_version": FORMAT_VERSION,
        "format": FORMAT,
        "parcours_version": __version__,
        "from": x.from_name,
        "to": x.to_name,
        "customers": x.customers,
        "replicates": len(x.seeds),
        "root_seed": x.root_seed,
        "seeds": x.seeds,
        "method": "exact Shapley" if x.plan.exact else "sampled permutations",
        "permutations": len(x.plan.permutations) if not x.plan.exact else math.factorial(x.plan.k),
        "combinations": len(x.plan.coalitions()),
        "runs": sum(len(v) for v in x.values.values()),
        "capabilities": [{"capability": f.name, "from": f.from_value, "to": f.to_value} for f in x.factors],
        "other_differences": x.other,
        "wall_time_s": round(x.wall_time_s, 1),
        "figures": figures,
    }


def to_json(x: Explanation) -> str:
    return json.dumps(document(x), indent=2, allow_nan=False) + "\n"


@dataclass(frozen=True)
class _Step:
    label: str
    bottom: float
    height: float
    err: float  # half-width of the 95% interval, in plotted units
    colour: str


def _steps(f: Figure, x: Explanation, n: int, scale: float) -> list[_Step]:
    """The floating bars: each contribution (largest first) from the running total, then what no
    capability carries when there is something there."""
    est = x.estimates()
    named = [(factor.name.replace("_", " "), est.shapley[i][n]) for i, factor in enumerate(x.factors)]
    named.sort(key=lambda s: -abs(s[1].mean))
    inter = est.interaction[n]
    if x.other or (inter.has_interval and not inter.holds_zero()):
        named.append(("other settings" if x.other else "interaction", inter))
    level, steps = est.from_[n].mean * scale, []
    for label, e in named:
        delta = e.mean * scale
        colour = NOISE if e.holds_zero() else (UP if delta >= 0 else DOWN)
        err = (e.ci_high - e.mean) * scale if e.has_interval else 0.0
        steps.append(_Step(label, level, delta, err, colour))
        level += delta
    return steps


def _waterfall(ax: Axes, f: Figure, x: Explanation, n: int) -> None:
    """FROM's level, each capability's contribution as a floating bar with its interval, TO's level.
    The ends' own intervals are in their labels, not drawn: they hold the noise every combination
    shares, which the paired contributions do not."""
    est = x.estimates()
    scale = 100.0 if f.unit == "%" else 1.0
    steps = _steps(f, x, n, scale)
    ends = [est.from_[n].mean * scale, est.to[n].mean * scale]
    tops = [s.bottom + max(s.height, 0) + s.err for s in steps] + ends
    lows = [s.bottom + min(s.height, 0) - s.err for s in steps] + ends
    lo, hi = min(lows), max(tops)
    pad = (hi - lo) * 0.2 or abs(hi) * 0.05 or 1.0
    floor = 0.0 if lo >= 0 and lo < 2 * (hi - lo) else lo - pad  # from 0 unless it flattens the steps
    for i, (e, v) in enumerate(((est.from_[n], ends[0]), (est.to[n], ends[1]))):
        at = 0 if i == 0 else len(steps) + 1
        ax.bar(at, v - floor, bottom=floor, color=ENDS, width=0.6)
        ax.text(at, v, f"{_value(f, e.mean)}\n{_bracket(f, e)}", ha="center", va="bottom", fontsize=9)
    for j, s in enumerate(steps, start=1):
        ax.bar(j, s.height, bottom=s.bottom, color=s.colour, width=0.6, edgecolor="#555", linewidth=0.5)
        ax.errorbar(j, s.bottom + s.height, yerr=s.err, color="black", capsize=4)
        ax.text(j + 0.33, s.bottom + s.height / 2, _signed(f, s.height / scale), va="center", fontsize=9)
    labels = ["FROM\n" + x.from_name, *(s.label for s in steps), "TO\n" + x.to_name]
    ax.set_xticks(np.arange(len(labels)), labels, fontsize=9)
    ax.set_xlim(-0.6, len(labels) - 0.2)
    ax.set_ylim(floor, hi + 2 * pad)
    unit = " (%)" if f.unit == "%" else " (€)" if f.unit == "€" else ""
    ax.set_ylabel(f.label.split(" (")[0] + unit + ("" if floor == 0 else "\naxis not from 0"))
    ax.set_title(f"{f.label}: {_interval(f, est.total[n])} from FROM to TO")
    ax.grid(axis="x", visible=False)


def _bracket(f: Figure, e: Estimate) -> str:
    return f"[{_value(f, e.ci_low)}, {_value(f, e.ci_high)}]" if e.has_interval else ""


def _table(f: Figure, x: Explanation, n: int) -> str:
    est = x.estimates()
    rows = []
    for i, factor in enumerate(x.factors):
        e, solo = est.shapley[i][n], est.alone[i][n]
        cell = esc(_interval(f, e))
        if e.holds_zero():
            cell = f'<span class="holds-zero" style="color:#999;font-style:italic">~ {cell}</span>'
        rows.append(tr(esc(factor.describe()), "#" + cell, "#" + esc(_interval(f, solo))))
    for name, key in (
        ("joint effects (inside the contributions)", "joint"),
        ("interaction: what no capability carries", "interaction"),
        ("total, FROM to TO", "total"),
    ):
        rows.append(tr(f"<i>{esc(name)}</i>", "#" + esc(_interval(f, getattr(est, key)[n])), "#"))
    return table(["capability (FROM -> TO)", "contribution (Shapley) [95%]", "alone [95%]"], rows)


def to_html(x: Explanation) -> str:
    doc = document(x)
    title = f"parcours explain: {x.from_name} -> {x.to_name}"
    method = (
        f"{doc['method']} over {x.plan.k} capabilities ({doc['combinations']} combinations"
        + ("" if x.plan.exact else f", {doc['permutations']} sampled orders")
        + f"), {doc['replicates']} replicates of {x.customers:,} customers, {doc['runs']} runs, "
        f"root seed {x.root_seed}, {doc['wall_time_s']} s"
    )
    parts = [f"<h1>{esc(title)}</h1><p class='lead'>{esc(method)}.</p><p class='lead'>{esc(ABOUT)}</p>"]
    if x.other:
        parts.append(
            f"<p class='lead'>Other settings that differ (not split): {esc(', '.join(x.other))}.</p>"
        )
    if not x.factors:
        parts.append("<p class='empty'>FROM and TO set every capability alike: nothing to split.</p>")
    for n, f in enumerate(FIGURES):
        with figure(3.6) as fig:
            _waterfall(fig.subplots(), f, x, n)
            image = png_base64(fig)
        parts.append(
            f'<section id="{f.key}"><h2>{esc(f.label)}</h2>'
            f'<img alt="{esc(f.label)} waterfall" src="data:image/png;base64,{image}">'
            f"{_table(f, x, n)}</section>"
        )
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{CSS}</style></head>\n<body><main>{''.join(parts)}"
        f"<p><small>parcours {esc(__version__)}, {esc(stamp)}</small></p></main></body></html>\n"
    )
