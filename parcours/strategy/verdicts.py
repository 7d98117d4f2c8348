"""The explain page's verdicts: what each capability is worth a year, and what this size can tell."""

from __future__ import annotations

import math

from parcours.output.economics import DEFAULTS
from parcours.report.numbers.intervals import Estimate
from parcours.report.pages.html import esc, table, tr
from parcours.strategy.explain import FIGURES, Explanation, Figure
from parcours.strategy.worth import advice, detectables, margins, readings, warnings

NOISE = "color:#999;font-style:italic"
WORDS = {
    "gross_margin_rate": "gross margin rate",
    "cost_per_agent_hour_eur": "cost of an agent hour",
    "cost_per_staff_hour_eur": "cost of a staff hour",
    "cost_per_click_collect_order_eur": "cost of preparing a click & collect order",
    "cost_per_return_eur": "cost of a return",
    "days_per_year": "days in a year",
}


def euros(v: float) -> str:
    """One way of writing euros on every page: €12,658 and -€251."""
    if math.isnan(v):
        return "n/a"
    return f"{'-' if v < 0 else ''}€{abs(v):,.0f}"


def _money(e: Estimate) -> str:
    text = euros(e.mean)
    if e.has_interval:
        text += f" [{euros(e.ci_low)}, {euros(e.ci_high)}]"
    return text


def banner(x: Explanation) -> str:
    said = warnings(x)
    if not said:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in said)
    return f"<div class='warning' role='note'><strong>Read with care:</strong><ul>{items}</ul></div>"


def _term(name: str, value: float) -> str:
    if name == "gross_margin_rate":
        return f"{value:.0%}"
    if name == "days_per_year":
        return f"{value:g}"
    return f"€{value:,.2f}"


def worth_section(x: Explanation) -> str:
    """Per capability: its contribution to yearly gross margin less service costs, the most to invest."""
    if not x.factors:
        return ""
    read = readings(x)
    rows = []
    for i, (factor, e) in enumerate(zip(x.factors, margins(x), strict=True)):
        cell = esc(_money(e))
        measured = read[i][-1].measurable
        if not measured:
            cell = f'<span class="holds-zero" style="{NOISE}">~ {cell}</span>'
        rows.append(tr(esc(factor.describe()), "#" + cell, esc("yes" if measured else "no: holds 0")))
    terms = x.economics
    given = [
        f"{WORDS[name]} {_term(name, getattr(terms, name))}"
        + (
            f" (assumption: {terms.assumed[name].removeprefix('assumption: ')})"
            if name in terms.assumed
            else ""
        )
        for name in DEFAULTS
    ]
    lead = (
        "Each capability's contribution to gross margin less service costs per day (net revenue times the "
        "gross margin rate, less answered calls and chats, staff help, click & collect preparation and "
        "returns at their unit costs), times the days of a year: the most the retailer should pay for it a "
        "year, with its 95% interval. A contribution whose interval holds 0 is not told from nothing at "
        "this size (greyed): its worth is unknown, not zero. Service work is counted as done in the runs, "
        "not as rostered."
    )
    return (
        "<section id='worth'><h2>What each capability is worth a year</h2>"
        f"<p class='lead'>{esc(lead)}</p>"
        + table(
            ["capability (FROM -> TO)", "gross margin less service costs, € per year [95%]", "measured"], rows
        )
        + f"<p><small>Economics ({esc('from the scenario' if terms.remarks else 'defaults')}): "
        + esc("; ".join(given))
        + (f". {esc(terms.remarks)}" if terms.remarks else ".")
        + "</small></p></section>"
    )


def _detectable(f: Figure, v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if v == 0:
        return "none: the figure did not vary between runs"
    if f.unit == "%":
        return f"±{v * 100:.2f} pts"
    if f.unit == "€":
        return f"±{euros(v)}"
    return f"±{v:.3g}"


def reach_section(x: Explanation) -> str:
    """Per figure the smallest effect these runs tell from zero; per capability what was not measured
    and the size that would measure it."""
    reach = detectables(x)
    rows = [tr(esc(f.label), "#" + esc(_detectable(f, reach[n]))) for n, f in enumerate(FIGURES)]
    read = readings(x)
    notes = []
    for i, factor in enumerate(x.factors):
        missed = [(f, r) for f, r in zip(FIGURES, read[i], strict=True) if not r.measurable]
        if not missed:
            continue
        # The advice of the figure that needs the fewest customers: the cheapest run that would tell.
        sizes = [r.customers_to_measure or math.inf for _, r in missed]
        f, r = missed[sizes.index(min(sizes))]
        words = advice(r, x.customers, len(x.seeds), x.days)
        names = ", ".join(g.key for g, _ in missed)
        notes.append(f"<li><b>{esc(factor.name)}</b> not measured on {esc(names)}: {esc(words)}.</li>")
    lead = (
        f"With {len(x.seeds)} replicates of {x.customers:,} customers over {x.days} day(s), a contribution "
        "smaller than these is not told from zero (the half-width of a contribution's 95% interval). A "
        "capability not measured here may matter; a larger run says."
    )
    return (
        "<section id='reach'><h2>What this size can tell</h2>"
        f"<p class='lead'>{esc(lead)}</p>"
        + table(["figure", "smallest effect told from zero"], rows)
        + (f"<ul>{''.join(notes)}</ul>" if notes else "<p>Every capability is measured on some figure.</p>")
        + "</section>"
    )
