"""Headline numbers: what a script reads from ``--format json`` and what ``compare`` puts side by side."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from parcours.report.columns.journeys import CROSS, SERVICE
from parcours.report.numbers import units
from parcours.report.numbers.costs import revenue_per_day
from parcours.report.numbers.summary import RunSummary, Takings
from parcours.report.numbers.units import Units
from parcours.vocabulary import Outcome


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # "%" (a share, shown in %, deltas in points), "€", "s", "" (a count or a ratio)
    value: Callable[[RunSummary], float]
    units: Callable[[RunSummary], Units]  # what the value of one run rests on: its n, its interval


def _share(num: float, den: float) -> float:
    return num / den if den else math.nan


def _bought_journeys(r: Takings) -> Units:
    by_outcome = r.journeys_by_outcome.sum(axis=0)
    code = {name: i for i, name in enumerate(r.outcomes)}
    bought = by_outcome[code[Outcome.BOUGHT.value]] + by_outcome[code[Outcome.RETURNED.value]]
    return units.share(bought, by_outcome.sum() - by_outcome[code[SERVICE]], "purchase journeys")


def journey_conversion(r: Takings) -> float:
    """Purchase-intent (journey) conversion: purchase journeys (all but service contacts) that ended
    with a purchase, kept or returned. Not the online session conversion the industry publishes."""
    return _bought_journeys(r).value


def realism_value(key: str) -> Callable[[RunSummary], float]:
    """A figure of the realism check (own-site session conversion, cart abandonment...), by its key."""

    def value(r: RunSummary) -> float:
        found = r.finding(key)
        return found.measure.value if found is not None else math.nan

    return value


def realism_units(key: str, unit: str) -> Callable[[RunSummary], Units]:
    """The k of n units a realism figure counted (none when the run cannot give it)."""

    def counted(r: RunSummary) -> Units:
        found = r.finding(key)
        if found is None or not found.measure.available:
            return units.share(0, 0, unit)
        return units.share(found.measure.numerator, found.measure.denominator, unit)

    return counted


def lost_journeys(r: Takings) -> float:
    code = r.outcomes.index(Outcome.LOST_TO_STOCKOUT.value)
    return float(r.journeys_by_outcome[:, code].sum())


def lost_sales_per_day(r: Takings) -> float:
    return lost_journeys(r) / r.days


def call_abandonment(r: Takings) -> float:
    return r.calls.abandonment() if r.calls.total else math.nan


def active_days(r: RunSummary) -> float:
    return float(r.typology.counts.sum())


def _calls_given_up(r: RunSummary) -> Units:
    given_up = round(float(r.calls.abandoned.sum()) * r.days)  # stored per day
    return units.share(given_up, r.calls.total, "calls")


def _channels_of_days(r: RunSummary) -> Units:
    per_day = r.typology.days_by_channels
    return units.mean(np.repeat(np.arange(len(per_day)), per_day), "active customer-days")


#: Renamed keys, still written in the JSON under their old name (format 1): old -> new.
ALIASES = {"conversion": "journey_conversion"}

KPIS = (
    Kpi(
        "journey_conversion",
        "Purchase-intent (journey) conversion: purchase journeys that bought",
        "%",
        journey_conversion,
        _bought_journeys,
    ),
    Kpi(
        "online_session_conversion",
        "Online session conversion: own-site and app sessions with a purchase",
        "%",
        realism_value("online_session_conversion"),
        realism_units("online_session_conversion", "own-site and app sessions"),
    ),
    Kpi(
        "cart_abandonment",
        "Cart abandonment: own-site and app sessions with a cart and no purchase",
        "%",
        realism_value("cart_abandonment"),
        realism_units("cart_abandonment", "own-site and app sessions with a cart"),
    ),
    Kpi(
        "store_visit_conversion",
        "Store-visit conversion: store visits with a purchase (pick-up/return-only visits apart)",
        "%",
        realism_value("store_visit_conversion"),
        realism_units("store_visit_conversion", "store visits"),
    ),
    Kpi(
        "revenue_eur_per_day",
        "Revenue (purchases, € per day)",
        "€",
        revenue_per_day,
        lambda r: units.total(r.sales.basket_cents / 100, r.days, "purchases"),
    ),
    Kpi(
        "basket_eur",
        "Mean basket (€ per purchase)",
        "€",
        lambda r: float(np.mean(r.sales.basket_cents)) / 100 if len(r.sales.basket_cents) else math.nan,
        lambda r: units.mean(r.sales.basket_cents / 100, "purchases"),
    ),
    Kpi(
        "lost_sales_per_day",
        "Lost sales (journeys lost to a stock-out, per day)",
        "",
        lost_sales_per_day,
        lambda r: units.rate(lost_journeys(r), r.days, "journeys lost"),
    ),
    Kpi(
        "lost_sales_eur_per_day",
        "Lost sales (€ of out-of-stock products, per day)",
        "€",
        lambda r: r.stockouts.lost_value_cents / 100 / r.days,
        lambda r: units.total(r.stockouts.lost_prices_cents / 100, r.days, "journeys lost"),
    ),
    Kpi(
        "mean_wait_s",
        "Mean phone wait (answered or given up, s)",
        "s",
        lambda r: float(np.mean(r.calls.waits)) if r.calls.total else math.nan,
        lambda r: units.mean(r.calls.waits, "calls"),
    ),
    Kpi(
        "call_abandonment",
        "Calls given up",
        "%",
        call_abandonment,
        _calls_given_up,
    ),
    Kpi(
        "channels_per_customer",
        "Distinct channels per active customer-day",
        "",
        lambda r: _share(
            float((r.typology.channels_per_day * r.typology.counts.sum(axis=1)).sum()), active_days(r)
        ),
        _channels_of_days,
    ),
    Kpi(
        "cross_channel_share",
        "Cross-channel customer-days",
        "%",
        lambda r: _share(float(r.typology.counts[:, CROSS].sum()), active_days(r)),
        lambda r: units.share(r.typology.counts[:, CROSS].sum(), active_days(r), "active customer-days"),
    ),
    Kpi(
        "sessions_per_day",
        "Sessions per day",
        "",
        lambda r: float(r.funnel[..., 0].sum()) / r.days,
        lambda r: units.rate(r.funnel[..., 0].sum(), r.days, "sessions"),
    ),
    Kpi(
        "active_share",
        "Customers active on a day (with a session, visit, call or chat)",
        "%",
        realism_value("active_customers_day"),  # as the realism check counts it
        realism_units("active_customers_day", "customer-days"),
    ),
)


#: The headline figures that read a run's takings alone (``Takings``): what ``explain`` splits.
TAKINGS: dict[str, Callable[[Takings], float]] = {
    "journey_conversion": journey_conversion,
    "revenue_eur_per_day": revenue_per_day,
    "lost_sales_per_day": lost_sales_per_day,
    "call_abandonment": call_abandonment,
}


def headline(r: RunSummary) -> dict[str, float]:
    return {k.key: float(k.value(r)) for k in KPIS}


def fmt(kpi: Kpi, value: float, signed: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    sign = "+" if signed else ""
    if kpi.unit == "%":
        return f"{value:{sign}.1%}"
    if kpi.unit == "€":
        sign = ("-" if value < 0 else "+") if signed else ("-" if value < 0 else "")
        return f"{sign}€{abs(value):,.2f}" if abs(value) < 1000 else f"{sign}€{abs(value):,.0f}"
    if kpi.unit == "s":
        return f"{0.0 if abs(value) < 0.5 else value:{sign},.0f} s"
    return f"{value:{sign},.2f}" if abs(value) < 100 else f"{value:{sign},.0f}"
