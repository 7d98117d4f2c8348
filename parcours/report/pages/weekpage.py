"""Sections of the report page on days of the week, journey flows, personas and service costs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from parcours.report.numbers.bounds import MIN_UNITS
from parcours.report.numbers.costs import costs_by_channel, economics_of, margin_per_day, service_costs
from parcours.report.numbers.personas import persona_rows
from parcours.report.numbers.routes import QUEUES
from parcours.report.numbers.summary import RunSummary
from parcours.report.numbers.weeks import WEEKDAYS
from parcours.report.pages.html import Section, esc, table, tr
from parcours.report.plots.sankey import sankey_svg
from parcours.report.plots.style import figure, grouped_offsets, png_base64, run_colour

PANELS = (
    ("sessions", "Sessions per day"),
    ("revenue_eur", "Revenue per day (€)"),
    ("store_visits", "Store visits per day"),
    ("calls", "Calls per day"),
)


def euros(v: float) -> str:
    """One way of writing euros on every page: €12,658 (cents under €100)."""
    if math.isnan(v):
        return "n/a"
    sign = "-" if v < 0 else ""
    return f"{sign}€{abs(v):,.2f}" if abs(v) < 100 else f"{sign}€{abs(v):,.0f}"


def _weekday_chart(runs: Sequence[RunSummary]) -> str:
    with figure(3.0) as fig:
        axes = fig.subplots(1, len(PANELS))
        offsets = grouped_offsets(len(runs))
        for ax, (attr, title) in zip(axes, PANELS, strict=True):
            for i, r in enumerate(runs):
                x = np.array([d.weekday for d in r.week.weekdays])
                y = np.array([getattr(d, attr) for d in r.week.weekdays])
                ax.bar(x + offsets[i], y, width=0.8 / len(runs), color=run_colour(i), label=r.label)
            ax.set_xticks(range(7), [w[:3] for w in WEEKDAYS], fontsize=8)
            ax.set_title(title, fontsize=10)
            ax.grid(axis="x", visible=False)
        if len(runs) > 1:
            axes[0].legend(fontsize=8)
        return png_base64(fig)


def _weekday_table(r: RunSummary) -> str:
    rows = []
    for d in r.week.weekdays:
        calls = round(d.calls * d.days)
        level = (
            "n/a (no call)"
            if calls == 0
            else f"too few ({calls} calls)"
            if calls < MIN_UNITS
            else f"{d.service_level:.0%} of {calls:,}"
        )
        peak = "none" if d.busiest_hour < 0 else f"{d.busiest_hour:02d}:00 ({d.busiest_hour_sessions:,.0f})"
        rows.append(
            tr(
                f"<b>{esc(d.name)}</b>",
                f"#{d.days}",
                f"#{d.sessions:,.0f}",
                f"#{esc(euros(d.revenue_eur))}",
                f"#{d.store_visits:,.0f}",
                f"#{d.calls:,.1f}",
                f"#{esc(level)}",
                f"#{esc(peak)}",
            )
        )
    head = [
        "day",
        "days",
        "sessions",
        "revenue",
        "store visits",
        "calls",
        "calls answered in time",
        "busiest hour",
    ]
    return f"<h3>{esc(r.label)}</h3>" + table(head, rows)


def weekdays_section(runs: Sequence[RunSummary]) -> Section | None:
    """Days of the week apart: only for runs of more than a day."""
    if all(r.days == 1 for r in runs):
        return None
    return Section(
        "weekdays",
        "Days of the week",
        "Each day of the week apart (figures per day of that weekday: the run's totals on those days over "
        "how many there were), so that an open Saturday and a closed Sunday are not averaged together. "
        "Calls answered in time: calls answered within the scenario's target wait over calls that reached "
        "the queue. Busiest hour: the local hour in which customers started the most sessions.",
        image=_weekday_chart(runs),
        table="".join(_weekday_table(r) for r in runs),
    )


def flows_section(runs: Sequence[RunSummary]) -> Section:
    parts = []
    for r in runs:
        routes = r.routes
        parts.append(f"<h3>{esc(r.label)}: every persona</h3>")
        parts.append(sankey_svg(routes.overall(), routes.nodes, f"{r.label}: journeys of every persona"))
        personas = "".join(
            sankey_svg(routes.links[p], routes.nodes, f"{r.label}: {persona}")
            for p, persona in enumerate(r.personas)
        )
        parts.append(
            f"<details><summary>{esc(r.label)}: each persona</summary>"
            f"<div class='sankeys'>{personas}</div></details>"
        )
    return Section(
        "flows",
        "Journey flows between channels",
        "Each purchase intent from the channel where it began (its first session: research) to the "
        "channel it was bought on (first purchase or kiosk order; 'no purchase' when it was not), then to "
        "the channel of its first pick-up, return or exchange, if any. Band widths and the numbers on "
        "them are journeys over the whole run; hover a band for its count. Service contacts and "
        "unanswered campaign messages "
        "are not purchase intents and are left out.",
        table="".join(parts),
    )


def _wait(w: tuple[float, int]) -> str:
    mean, n = w
    if n == 0:
        return "#none"
    if n < MIN_UNITS:
        return f"#<small>too few ({n})</small>"
    return f"#{mean:,.0f} s <small>({n:,})</small>"


def _persona_table(r: RunSummary) -> str:
    rows = []
    for row in persona_rows(r):
        c = row.conversion
        conversion = (
            f"too few ({int(c.k)} of {int(c.n)})"
            if c.too_few
            else f"{c.value:.1%} [{c.low:.1%}, {c.high:.1%}] of {int(c.n):,}"
        )
        rows.append(
            tr(
                f"<b>{esc(row.persona)}</b>",
                f"#{esc(conversion)}",
                f"#{esc(euros(row.revenue_eur_per_day))}",
                f"#{esc(euros(row.revenue_eur_per_intent))}",
                f"#{row.channels_per_active_day:.2f}",
                *(_wait(row.waits[q]) for q in QUEUES),
            )
        )
    head = [
        "persona",
        "purchase intents that bought [95%]",
        "revenue per day",
        "revenue per intent",
        "channels per active day",
        *(f"mean wait: {q} (people)" for q in QUEUES),
    ]
    return f"<h3>{esc(r.label)}</h3>" + table(head, rows)


def personas_section(runs: Sequence[RunSummary]) -> Section:
    return Section(
        "personas",
        "Personas: outcomes, spend, channels and waits",
        "One row per persona: the share of its purchase intents that ended in a purchase (kept or returned, "
        "on any channel) with Wilson's 95% interval and its n, revenue per day and per intent, distinct "
        "channels per active customer-day, and mean waits for a person (answered or given up). Fewer than "
        "30 people or intents: too few to show a figure.",
        table="".join(_persona_table(r) for r in runs),
    )


def costs_section(runs: Sequence[RunSummary]) -> Section:
    rows = []
    for r in runs:
        e = economics_of(r.manifest)
        for c in service_costs(r, e):
            rows.append(
                tr(
                    esc(r.label),
                    esc(c.channel),
                    esc(c.work),
                    f"#{c.units_per_day:,.1f}",
                    f"#{esc(euros(c.eur_per_day))}",
                )
            )
        by_channel = ", ".join(f"{k} {euros(v)}" for k, v in costs_by_channel(service_costs(r, e)).items())
        rows.append(
            tr(
                f"<b>{esc(r.label)}</b>",
                "<b>all</b>",
                esc(f"by channel: {by_channel}"),
                "#",
                f"#<b>gross margin less these: {esc(euros(margin_per_day(r, e)))}</b>",
            )
        )
    e = economics_of(runs[0].manifest)
    assumed = "; ".join(f"{k}: {v}" for k, v in e.assumed.items())
    return Section(
        "costs",
        "Service costs per channel",
        "What the service work of a mean day costs at the retailer's economics (the scenario's "
        "[economics], defaults otherwise): answered calls and chats times the mean talk and chat time times "
        "the cost of an agent hour, staff help times its mean length times the cost of a staff hour, "
        "click & collect orders collected and returns taken back times their unit costs. Work done, not "
        "the roster. Gross margin: "
        f"net revenue (purchases less refunds) times the gross margin rate ({e.gross_margin_rate:.0%}) less "
        "these costs.",
        facts=[f"Assumptions: {assumed}."] if assumed else [],
        table=table(["run", "channel", "work", "units per day", "€ per day"], rows),
    )
