"""Purchase intents over a year, and their phases: research, then the purchase.

Who does anything is decided for the whole file with one uniform per customer: a customer's intents are
a renewal process whose gaps are Erlang of shape k (``renewal_shape``), i.e. every k-th event of a
Poisson process of k times the intent rate. The customer's state is the phase of that process (how
many of the k sub-events have passed since the last intent), drawn at the window's start from its
stationary distribution (uniform), so days inside a run are linked (an intent makes another one in the
next days less likely) while any day of the year looks alike. The window runs ``LOOKBACK_DAYS`` before
the run, so research begun last week can end in a purchase today; sessions before the run's start are
not written.

An intent then unfolds in phases, each on a channel drawn for the persona and the moment: research
sessions (``research_sessions`` on average, over about ``research_days`` days) on the persona's channel
mix for that hour, then, if it buys, the purchase on the channel drawn from ``buy_on`` (a store in its
opening hours, the own site on the device the hour favours, a marketplace, the phone). Research online
then buying in store (ROPO), showrooming, web-to-store and store-to-web emerge from these draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model.inputs import LOOKBACK_DAYS, Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import (
    PoissonTable,
    Purpose,
    Streams,
    categorical,
    cumulative,
    poisson_from_uniform,
)
from parcours.simulator.plan.sessions import MAX_PLANNED_STEPS
from parcours.vocabulary import Channel

STORE = CHANNEL_CODE[Channel.STORE]
PHONE = CHANNEL_CODE[Channel.PHONE]
MARKETPLACE = CHANNEL_CODE[Channel.MARKETPLACE]
MAX_PER_CUSTOMER = 63  # intents of one customer in the window (journey slots 0..63)


@dataclass
class Starts:
    """Intents (or service contacts) that begin in the window: the customer's row and when."""

    crow: np.ndarray  # row into the customers they were drawn for
    day: np.ndarray  # window day (0 = LOOKBACK_DAYS before the run's first day)
    slot: np.ndarray  # the intent's number for its customer
    span: np.ndarray  # days from the first research session to the purchase (intents only)


def repeat_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: the row of every item and the item's index within its row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(len(rows)) - starts[rows]


def day_weights(model: Model) -> np.ndarray:
    """Relative intent intensity per (persona, window day): weekend days weigh ``weekend_factor``, a
    week averages 1, and the run's days carry the scenario's demand multiplier."""
    wf = model.tables["weekend_factor"]
    weights = np.where(model.window_weekend[None, :], wf[:, None], 1.0) / ((5.0 + 2.0 * wf) / 7.0)[:, None]
    in_run = np.arange(len(model.window_weekend)) >= LOOKBACK_DAYS
    return weights * np.where(in_run, model.scenario.demand.journeys_multiplier, 1.0)[None, :]


def intent_starts(model: Model, streams: Streams, file: Customers) -> Starts:
    """Every intent of the file that begins in the window and reaches into the run: one draw for each
    customer, the rest only for the few who have one."""
    t = model.tables
    persona = file.persona.astype(np.int64)
    weights = day_weights(model)
    k = t["renewal_shape"][persona].astype(np.int64)
    expected = k * t["intents_per_day"][persona] * file.activity * weights.sum(axis=1)[persona]
    u = streams.uniform(Purpose.JOURNEYS, file.ids)
    some = np.flatnonzero(u >= np.exp(-expected))  # at least one sub-event in the window
    n = np.minimum(poisson_from_uniform(expected[some], u[some]), MAX_PER_CUSTOMER)
    ids, k = file.ids[some], k[some]
    phase = (streams.uniform(Purpose.RENEWAL, ids) * k).astype(np.int64)
    rows, idx = repeat_rows(n)
    pos = streams.uniform(Purpose.JOURNEY_DAY, ids[rows], idx)
    rank = np.empty_like(idx)
    # rows are grouped and positions in [0, 1): sorting rows + pos orders each group in place
    rank[np.argsort(rows + pos, kind="stable")] = idx
    keep = (rank + phase[rows]) % k[rows] == k[rows] - 1
    rows, pos, rank = rows[keep], pos[keep], rank[keep]
    crow = some[rows]
    day = categorical(cumulative(weights), persona[crow], pos)
    slot = rank // k[rows]
    jid = journey_key(file.ids[crow], day, slot)
    span = np.floor(streams.exponential(t["research_days"][persona[crow]], Purpose.PHASE, jid, 0))
    span = np.minimum(span, LOOKBACK_DAYS).astype(np.int64)
    reaches = day + span >= LOOKBACK_DAYS  # an intent wholly before the run leaves nothing in it
    return Starts(crow[reaches], day[reaches], slot[reaches], span[reaches])


def contact_starts(model: Model, streams: Streams, file: Customers) -> Starts:
    """Service contacts on the run's days (one session each), drawn like intents, without memory."""
    persona = file.persona
    rate = model.tables["contacts_per_day"][persona] * model.scenario.demand.contacts_multiplier
    expected = rate * file.activity * model.days
    u = streams.uniform(Purpose.CONTACTS, file.ids)
    some = np.flatnonzero(u >= np.exp(-expected))
    n = np.minimum(poisson_from_uniform(expected[some], u[some]), 127)
    rows, idx = repeat_rows(n)
    crow = some[rows]
    day = (streams.uniform(Purpose.CONTACT_TIME, file.ids[crow], idx) * model.days).astype(np.int64)
    return Starts(crow, day + LOOKBACK_DAYS, idx, np.zeros(len(crow), np.int64))


def journey_key(customer: np.ndarray, day: np.ndarray | int, slot: np.ndarray | int) -> np.ndarray:
    return (
        (np.asarray(customer, np.int64) << 20) | (np.asarray(day, np.int64) << 8) | np.asarray(slot, np.int64)
    )


def recognised(
    model: Model, streams: Streams, customers: Customers, crow: np.ndarray, jid: np.ndarray
) -> np.ndarray:
    """Whether the retailer knows who the customer is across channels during the intent: omnichannel
    recognises everyone who has identified at some point (account, card, app login); cross-channel only
    when the customer logs in (drawn once per intent); silos never."""
    identity = model.scenario.capabilities.identity
    if identity == "silos":
        return np.zeros(len(crow), bool)
    account = customers.account[crow]
    if identity == "one_profile":
        return account
    rate = model.tables["login_rate"][customers.persona[crow]]
    return account & (streams.uniform(Purpose.RECOGNISED, jid) < rate)


def phases(
    model: Model, streams: Streams, customers: Customers, starts: Starts
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Journeys (one per intent) and their planned sessions: research, then the purchase."""
    t = model.tables
    crow = starts.crow
    persona = customers.persona[crow].astype(np.int64)
    jid = journey_key(customers.ids[crow], starts.day, starts.slot)
    uplift = 1.0 + t["recognised_uplift"][persona] * recognised(model, streams, customers, crow, jid)
    propensity = t["propensity"][persona] * model.scenario.demand.propensity_multiplier * uplift
    buys = streams.uniform(Purpose.BUYS, jid) < np.minimum(0.95, propensity)
    u_count = streams.uniform(Purpose.SESSIONS, jid)
    # Poisson(research_sessions) if it buys, else 1 + Poisson(research_sessions - 1): rates per persona,
    # so each row is drawn from its persona's table, for its case only
    rates = t["research_sessions"]
    n_research = np.empty(len(jid), dtype=np.int64)
    b, others = np.flatnonzero(buys), np.flatnonzero(~buys)
    n_research[b] = PoissonTable(rates).draw(persona[b], u_count[b])
    n_research[others] = 1 + PoissonTable(np.maximum(rates - 1.0, 0.0)).draw(persona[others], u_count[others])
    n_research = np.minimum(n_research, MAX_PLANNED_STEPS - 1)
    # research sessions: the first on the intent's first day, the others on days up to the purchase's
    jrow, idx = repeat_rows(n_research)
    u_day = streams.uniform(Purpose.PHASE, jid[jrow], idx + 1)
    day = starts.day[jrow] + np.where(idx == 0, 0, np.floor(u_day * (starts.span[jrow] + 1)).astype(np.int64))
    start = _time_on(model, streams, persona[jrow], day, jid[jrow], idx, "hour_cum")
    # the purchase, on the intent's last day, at an hour the persona shops (a store: its open hours);
    # research sessions drawn for later that day move to just before it (b: the intents that buy)
    where = categorical(
        t["buy_on_cum"], persona[b], streams.uniform(Purpose.CHANNEL, jid[b], MAX_PLANNED_STEPS)
    )
    at_store = where == 0
    p_day = starts.day[b] + starts.span[b]
    p_start = np.where(
        at_store,
        _time_on(model, streams, persona[b], p_day, jid[b], MAX_PLANNED_STEPS, "store_hour_cum"),
        _time_on(model, streams, persona[b], p_day, jid[b], MAX_PLANNED_STEPS, "hour_cum"),
    )
    purchase_at = np.full(len(jid), np.inf)
    purchase_at[b] = p_start
    gap = streams.exponential(t["gap_s"][persona[jrow]], Purpose.SESSION_GAP, jid[jrow], idx)
    start = np.minimum(start, purchase_at[jrow] - gap * (1 + n_research[jrow] - idx))
    channel = np.select([at_store, where == 2, where == 3], [STORE, MARKETPLACE, PHONE], -2)
    research_channel = np.full(len(jrow), -1)  # drawn later, from the hour's mix
    sessions = {
        "jrow": np.concatenate([jrow, b]),
        "start": np.concatenate([start, p_start]),
        "channel": np.concatenate([research_channel, channel]),
        "buy": np.concatenate([np.zeros(len(jrow), bool), np.ones(len(b), bool)]),
    }
    journeys = {
        "id": jid,
        "customer": crow,
        "buys": buys,
        "service": np.zeros(len(jid), bool),
        "campaign": np.full(len(jid), -1, np.int32),
        "responded": np.ones(len(jid), bool),
    }
    return journeys, sessions


def _time_on(
    model: Model,
    streams: Streams,
    persona: np.ndarray,
    day: np.ndarray,
    jid: np.ndarray,
    step: np.ndarray | int,
    table: str,
) -> np.ndarray:
    """Seconds since the run's start of a moment on a window day, at an hour from the persona's curve."""
    beyond = day >= len(model.window_weekend)  # after the run: not simulated
    day = np.minimum(day, len(model.window_weekend) - 1)
    weekend = model.window_weekend[day].astype(np.int64)
    hour = categorical(
        model.tables[table], persona * 2 + weekend, streams.uniform(Purpose.JOURNEY_HOUR, jid, step)
    )
    minute = streams.uniform(Purpose.JOURNEY_MINUTE, jid, step)
    return np.where(beyond, np.inf, model.window_starts[day, hour] - model.t0 + 3600.0 * minute)
