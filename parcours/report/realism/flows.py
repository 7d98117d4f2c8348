"""Figures shown next to published ones but not checked: their sources count people over months, or
nothing comparable is published (research online and buy in store per journey, showrooming, web-to-store,
store-to-web, several-channel buyers), or they are model inputs (purchases per customer per year).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from parcours.report.columns.arrays import distinct, member
from parcours.report.realism.basis import OWN_SITE, STORE_SALES, Basis
from parcours.report.realism.stats import Measure, proportion, shown, unavailable
from parcours.vocabulary import EventType


def _earliest(journey: np.ndarray, start_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct journeys, sorted, with the earliest start among the given sessions of each."""
    if not len(journey):
        return journey, start_ms
    order = np.lexsort((start_ms, journey))
    journey, start_ms = journey[order], start_ms[order]
    first = np.concatenate(([True], journey[1:] != journey[:-1]))
    return journey[first], start_ms[first]


def _preceded(journey: np.ndarray, at_ms: np.ndarray, before: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """For each (journey, instant), whether the journey had one of ``before``'s sessions start earlier."""
    journeys, earliest = before
    if not len(journeys):
        return np.zeros(len(journey), bool)
    pos = np.clip(np.searchsorted(journeys, journey), 0, len(journeys) - 1)
    return np.asarray((journeys[pos] == journey) & (earliest[pos] < at_ms))


def _own_site_sessions(b: Basis) -> tuple[np.ndarray, np.ndarray]:
    s = b.sessions
    return _earliest(s.journey[b.own_site], s.start_local_ms[b.own_site])


def _store_visit_sessions(b: Basis) -> tuple[np.ndarray, np.ndarray]:
    s = b.sessions
    return _earliest(s.journey[b.store_visits], s.start_local_ms[b.store_visits])


def ropo_journeys(b: Basis) -> Measure:
    """R23: store purchases whose journey had an own-site session before / store purchases."""
    buy = b.events(EventType.PURCHASE)
    buy = buy.where(b.on(buy.channel, STORE_SALES))
    return proportion(int(_preceded(buy.journey, buy.local_ms, _own_site_sessions(b)).sum()), len(buy))


def showrooming(b: Basis) -> Measure:
    """Own-site purchases whose journey had a store visit before / own-site purchases."""
    buy = b.events(EventType.PURCHASE)
    buy = buy.where(b.on(buy.channel, OWN_SITE))
    return proportion(int(_preceded(buy.journey, buy.local_ms, _store_visit_sessions(b)).sum()), len(buy))


def web_to_store(b: Basis) -> Measure:
    """Store visits whose journey had an own-site session before / store visits."""
    s, visit = b.sessions, b.store_visits
    hit = _preceded(s.journey[visit], s.start_local_ms[visit], _own_site_sessions(b))
    return proportion(int(hit.sum()), int(visit.sum()))


def store_to_web(b: Basis) -> Measure:
    """Own-site sessions whose journey had a store visit before / own-site sessions."""
    s, own = b.sessions, b.own_site
    hit = _preceded(s.journey[own], s.start_local_ms[own], _store_visit_sessions(b))
    return proportion(int(hit.sum()), int(own.sum()))


def store_to_online_buyers(b: Basis) -> Measure:
    """R2: among customers with an own-site session, store buyers / own-site buyers."""
    visitors = distinct(b.sessions.customer[b.own_site])
    buy = b.events(EventType.PURCHASE)
    buy = buy.where(member(buy.customer, visitors))
    in_store = len(distinct(buy.customer[b.on(buy.channel, STORE_SALES)]))
    online = len(distinct(buy.customer[b.on(buy.channel, OWN_SITE)]))
    if not online:
        return unavailable("no own-site buyer in this run")
    return shown(in_store / online, in_store, online)


def several_channel_buyers(b: Basis) -> Measure:
    """R22: buyers who used two or more of the retailer's channels in the run / buyers."""
    s = b.sessions
    buyers = distinct(b.events(EventType.PURCHASE).customer)
    of_buyers = member(s.customer, buyers)
    pairs = distinct(s.customer[of_buyers] * 64 + s.channel[of_buyers])
    _, channels = np.unique(pairs // 64, return_counts=True)
    return proportion(int((channels >= 2).sum()), len(buyers))


def purchases_per_customer_year(b: Basis) -> Measure:
    """Purchases in the run, per customer of the file, scaled to 365 days (an input of the personas)."""
    purchases = len(b.events(EventType.PURCHASE))
    if not b.customers:
        return unavailable("the manifest gives no customer count")
    return shown(purchases * 365 / b.calendar.days / b.customers, purchases, b.customers)


def assist_giveup(b: Basis) -> Measure:
    """Store customers who gave up waiting for staff / customers who asked for staff."""
    helped = b.count(EventType.STAFF_ASSIST)
    gave_up = b.count(EventType.ASSIST_ABANDONED)
    return proportion(gave_up, helped + gave_up)


SHOWN: dict[str, Callable[[Basis], Measure]] = {
    "store_to_online_buyers": store_to_online_buyers,
    "several_channel_buyers": several_channel_buyers,
    "ropo_journeys": ropo_journeys,
    "showrooming": showrooming,
    "web_to_store": web_to_store,
    "store_to_web": store_to_web,
    "purchases_per_customer_year": purchases_per_customer_year,
    "assist_giveup": assist_giveup,
}
