"""Service costs per channel and gross margin per day, from a run and the retailer's economics.

Costs count the work the run did, not the roster: answered calls and chats times the scenario's mean
talk (chat) time, staff help given times its mean length, click & collect orders collected, returns and
exchanges taken back; each times its unit cost (``parcours/scenarios/economics.py``). Gross margin
per day is net revenue per day (purchases less refunds) times the gross margin rate, less those costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from parcours.output.economics import Terms, terms
from parcours.output.manifest import Manifest, ServiceTimes
from parcours.report.numbers.summary import RunSummary, Takings

HOUR_S = 3600.0


def economics_of(manifest: Manifest) -> Terms:
    """The run's economics as its scenario gave them; runs written before economics get the defaults."""
    return terms(manifest.scenario.economics)


@dataclass(frozen=True)
class Cost:
    channel: str
    work: str  # what is paid for
    units_per_day: float
    eur_per_day: float


@dataclass(frozen=True)
class Work:
    """The service work of a run, per day, that its service costs count."""

    times: ServiceTimes  # the scenario's mean service times
    channels: list[str]  # the names of the channel axis below
    calls: float  # calls answered
    chats: float  # chats answered
    helped: float  # help given by store staff
    pickups: np.ndarray  # [channel] click & collect orders collected
    returns: np.ndarray  # [channel] returns and exchanges taken back


def work_of(r: RunSummary) -> Work:
    return Work(
        r.manifest.scenario.service_times,
        r.channels,
        float(r.calls.answered.sum()),
        float(r.chats.answered.sum()),
        float(r.stores.assist.answered.sum()),
        r.funnel[..., 3].sum(axis=0) / r.days,
        r.funnel[..., 4].sum(axis=0) / r.days,
    )


def service_costs(r: RunSummary, e: Terms) -> list[Cost]:
    """Each kind of service work of the run, per day, and what it costs."""
    return work_costs(work_of(r), e)


def work_costs(w: Work, e: Terms) -> list[Cost]:
    """Each kind of service work, per day, and what it costs."""
    times = w.times
    talk, chat, assist = times.mean_talk_s / HOUR_S, times.mean_chat_s / HOUR_S, times.mean_assist_s / HOUR_S
    calls, chats, helped = w.calls, w.chats, w.helped
    costs = [
        Cost("phone", "calls answered (agent time)", calls, calls * talk * e.cost_per_agent_hour_eur),
        Cost("chat", "chats answered (agent time)", chats, chats * chat * e.cost_per_agent_hour_eur),
        Cost(
            "store", "help given by staff (staff time)", helped, helped * assist * e.cost_per_staff_hour_eur
        ),
    ]
    pickups, returns = w.pickups, w.returns
    for c, channel in enumerate(w.channels):
        if pickups[c]:
            n = float(pickups[c])
            costs.append(
                Cost(channel, "click & collect orders collected", n, n * e.cost_per_click_collect_order_eur)
            )
        if returns[c]:
            n = float(returns[c])
            costs.append(Cost(channel, "returns and exchanges taken back", n, n * e.cost_per_return_eur))
    return costs


def costs_by_channel(costs: list[Cost]) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in costs:
        out[c.channel] = out.get(c.channel, 0.0) + c.eur_per_day
    return out


def revenue_per_day(r: Takings) -> float:
    return float(r.sales.revenue_cents.sum()) / 100 / r.days


def net_revenue_per_day(r: Takings) -> float:
    """Purchases less the refunds of returns, per day (€)."""
    return (float(r.sales.revenue_cents.sum()) - r.sales.refunds_cents) / 100 / r.days


def margin_per_day(r: RunSummary, e: Terms | None = None) -> float:
    """Net revenue per day (purchases less refunds) times the gross margin rate, less the day's service
    costs (€): a refunded sale's margin is lost, the goods go back on the shelf."""
    return margin(r, work_of(r), e or economics_of(r.manifest))


def margin(r: Takings, w: Work, e: Terms) -> float:
    """``margin_per_day`` from a run's takings and service work."""
    return net_revenue_per_day(r) * e.gross_margin_rate - sum(c.eur_per_day for c in work_costs(w, e))


def costs_document(r: RunSummary) -> dict[str, Any]:
    """Service costs per day by channel and by kind of work, with the economics they rest on."""
    e = economics_of(r.manifest)
    costs = service_costs(r, e)
    return {
        "eur_per_day_by_channel": {k: round(v, 2) for k, v in costs_by_channel(costs).items()},
        "items": [
            {
                "channel": c.channel,
                "work": c.work,
                "units_per_day": round(c.units_per_day, 3),
                "eur_per_day": round(c.eur_per_day, 2),
            }
            for c in costs
        ],
        "margin_eur_per_day": round(margin_per_day(r, e), 2),
        "economics": e.document(),
    }
