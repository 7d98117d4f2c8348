"""The checked realism figures, each computed as its published source defines it (CONTRACT R1-R20).

Each function takes the run's ``Basis`` and returns a ``Measure``: numerator, denominator, value and
95% interval, or why this run cannot give the figure (no store, no campaign, not an ordinary day...).
How long a run must be and at which integration levels a figure applies is data, in references.toml.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from parcours.report.columns.arrays import distinct, member
from parcours.report.columns.engagement import key_campaign, key_channel
from parcours.report.realism.basis import ONLINE_SALES, OWN_SITE, Basis
from parcours.report.realism.stats import Measure, exact_count, proportion, unavailable, weighted_share
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel, EventType

RETURN_WINDOW_DAYS = 14  # the legal withdrawal period for distance sales (Code de la consommation L221-18)
CALL_SERVICE_S = 20.0  # the "80% in 20 s" service level's threshold


def online_revenue_share(b: Basis) -> Measure:
    """R1: revenue of purchases online (own site + marketplace) / revenue of all purchases, in euros."""
    if not b.store_visits.any():
        return unavailable("no store visit in this run: a pure player is not compared with store chains")
    buy = b.events(EventType.PURCHASE)
    kiosk = b.events(EventType.KIOSK_ORDER)  # counted only when it carries an amount and no purchase does
    kiosk = kiosk.where((kiosk.amount_cents >= 0) & ~member(kiosk.session, distinct(buy.session)))
    amount = np.maximum(np.concatenate([buy.amount_cents, kiosk.amount_cents]), 0) / 100  # euros
    online = np.concatenate([b.on(buy.channel, ONLINE_SALES), np.zeros(len(kiosk), bool)])
    return weighted_share(amount, online)


def _collected(b: Basis) -> np.ndarray:
    """Journeys with an order prepared for or picked up in a store."""
    rows = b.events(EventType.ORDER_READY, EventType.PICKUP)
    return distinct(rows.journey)


def click_collect_share(b: Basis) -> Measure:
    """R3: own-site purchases collected in a store / own-site purchases."""
    buy = b.events(EventType.PURCHASE)
    own = buy.where(b.on(buy.channel, OWN_SITE))
    collected = (own.store >= 0) | member(own.journey, _collected(b))
    return proportion(int(collected.sum()), len(own))


def store_stockout_rate(b: Basis) -> Measure:
    """R4: store purchase attempts meeting an empty shelf / store purchase attempts.

    An attempt is a store session's look for its item: it met a stock-out, or it bought without one
    (a purchase after a stock-out, held or ordered by staff, is the same attempt, not a second one).
    """
    s, store = b.sessions, b.vocab.channels.code(Channel.STORE.value)
    in_store = s.channel == store
    out = b.count(EventType.STOCK_OUT, (Channel.STORE,))
    buy = b.events(EventType.PURCHASE)
    buy_sessions = buy.session[buy.channel == store]
    no_stockout = s.session[in_store & ~s.stockout]
    clean_buys = int(member(buy_sessions, distinct(no_stockout)).sum())
    return proportion(out, out + clean_buys)


def online_session_conversion(b: Basis) -> Measure:
    """R5: own-site sessions with a purchase / own-site sessions."""
    own = b.own_site
    return proportion(int((own & b.sessions.purchase).sum()), int(own.sum()))


def cart_abandonment(b: Basis) -> Measure:
    """R6: own-site sessions with a cart_add and no purchase / own-site sessions with a cart_add."""
    carts = b.own_site & b.sessions.cart
    return proportion(int((carts & ~b.sessions.purchase).sum()), int(carts.sum()))


def _store_visits_by_day(b: Basis) -> np.ndarray:
    day = b.session_day(b.sessions.start_local_ms[b.store_visits])
    day = day[(day >= 0) & (day < b.calendar.days)]
    return np.bincount(day, minlength=b.calendar.days)


def saturday_store_share(b: Basis) -> Measure:
    """R7: store visits on Saturdays / store visits, over the run's whole weeks."""
    whole = b.calendar.days // 7 * 7
    visits = _store_visits_by_day(b)[:whole]
    saturday = b.weekday_of_day()[:whole] == 5
    return proportion(int(visits[saturday].sum()), int(visits.sum()))


def closed_day_store_visits(b: Basis) -> Measure:
    """R8: store visits on days the scenario's calendar closes the stores (must be none)."""
    closed = b.closed_days()
    if not closed.any():
        return unavailable("the scenario's calendar closes the stores on none of the run's days")
    visits = _store_visits_by_day(b)
    return exact_count(int(visits[closed].sum()), int(visits.sum()))


def _calls(b: Basis) -> tuple[int, str]:
    if not b.ordinary_demand():
        return 0, "a peak-demand scenario (demand multiplier above 1): staffing follows the ordinary day"
    return b.count(EventType.CALL_QUEUED, (Channel.PHONE,)), ""


def calls_answered_20s(b: Basis) -> Measure:
    """R10: calls answered within 20 s / calls queued, on an ordinary day."""
    queued, why = _calls(b)
    if why:
        return unavailable(why)
    answered = b.events(EventType.CALL_ANSWERED)
    return proportion(int((answered.wait_s <= CALL_SERVICE_S).sum()), queued)


def call_abandonment(b: Basis) -> Measure:
    """R11: calls abandoned / calls queued, on an ordinary day."""
    queued, why = _calls(b)
    if why:
        return unavailable(why)
    return proportion(len(b.events(EventType.CALL_ABANDONED)), queued)


def _campaign_rate(kind: str, channel: Channel) -> Callable[[Basis], Measure]:
    def rate(b: Basis) -> Measure:
        m = b.scan.messages
        code = b.vocab.channels.code(channel.value)

        def keys(k: np.ndarray) -> np.ndarray:
            return k[(key_channel(k) == code) & (key_campaign(k) >= 0)]

        sent = keys(m.sent.key)
        if not len(sent):
            return unavailable(f"no campaign sent on {channel.value} in this run")
        reached = member(keys(getattr(m, kind).key), sent)
        return proportion(int(reached.sum()), len(sent))

    rate.__doc__ = f"Distinct (customer, campaign) {kind} on {channel.value} / sent on {channel.value}."
    return rate


email_open_rate = _campaign_rate("opened", Channel.EMAIL)  # R12
email_click_rate = _campaign_rate("clicked", Channel.EMAIL)  # R13
push_open_rate = _campaign_rate("opened", Channel.PUSH)  # R14


def opens_follow_sends(b: Basis) -> Measure:
    """R15: opened or clicked (customer, channel, campaign) with no send before them (must be none)."""
    m = b.scan.messages
    unsent = len(m.unsent("opened")) + len(m.unsent("clicked"))
    return exact_count(unsent, len(m.opened.key) + len(m.clicked.key))


def store_visit_conversion(b: Basis) -> Measure:
    """R16: store visits with a purchase / store visits, pick-up-only and return-only visits left out."""
    s = b.sessions
    visits = b.store_visits & ~(s.aftersale & ~s.purchase)
    return proportion(int((visits & s.purchase).sum()), int(visits.sum()))


def online_return_rate(b: Basis) -> Measure:
    """R17: online purchases returned or exchanged later in their journey / online purchases.

    Only purchases made at least 14 days (the withdrawal period) before the run's end count, so every
    purchase counted has had its whole return window inside the run.
    """
    buy = b.events(EventType.PURCHASE)
    last_day = b.calendar.days - RETURN_WINDOW_DAYS
    day = b.session_day(buy.local_ms)
    online = buy.where(b.on(buy.channel, ONLINE_SALES) & (day < last_day))
    back = b.events(EventType.RETURN, EventType.EXCHANGE)
    order = np.lexsort((back.ts_ms, back.journey))
    journey, ts = back.journey[order], back.ts_ms[order]
    last = np.concatenate((journey[1:] != journey[:-1], [True])) if len(journey) else np.zeros(0, bool)
    journeys, latest = journey[last], ts[last]  # each journey's last return or exchange
    pos = np.clip(np.searchsorted(journeys, online.journey), 0, max(len(journeys) - 1, 0))
    found = member(online.journey, journeys)
    later = found & (latest[pos] > online.ts_ms) if len(journeys) else found
    return proportion(int(later.sum()), len(online))


def active_customers_day(b: Basis) -> Measure:
    """R20: customers who came to one of the retailer's channels on a day (a session, a visit, a call or
    a chat) / customer file, over the run's days. Reading a message the retailer sent (email, SMS,
    push, catalogue) is not coming to a channel; the click that follows it starts a session that is."""
    s = b.sessions
    day = b.session_day(s.start_local_ms)
    inside = (day >= 0) & (day < b.calendar.days) & ~b.on(s.channel, OUTBOUND_CHANNELS)
    active = len(distinct(s.customer[inside] * b.calendar.days + day[inside]))
    return proportion(active, b.customers * b.calendar.days)


CHECKS: dict[str, Callable[[Basis], Measure]] = {
    "online_revenue_share": online_revenue_share,
    "click_collect_share": click_collect_share,
    "store_stockout_rate": store_stockout_rate,
    "online_session_conversion": online_session_conversion,
    "cart_abandonment": cart_abandonment,
    "saturday_store_share": saturday_store_share,
    "closed_day_store_visits": closed_day_store_visits,
    "calls_answered_20s": calls_answered_20s,
    "call_abandonment": call_abandonment,
    "email_open_rate": email_open_rate,
    "email_click_rate": email_click_rate,
    "push_open_rate": push_open_rate,
    "opens_follow_sends": opens_follow_sends,
    "store_visit_conversion": store_visit_conversion,
    "online_return_rate": online_return_rate,
    "active_customers_day": active_customers_day,
}
