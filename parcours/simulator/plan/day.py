"""A shard's days planned in bulk: purchase intents and their phases, campaign responses, service
contacts, and the sessions they make.

Who acts is decided for the whole file at once (``intents``); everything else is drawn for the acting
customers only, per journey, from their own streams, in NumPy; what depends on other customers (queues,
stock) is left to the SimPy day. The plan's shape (``PlannedJourneys``, ``PlannedSessions``) and the
numbering of sessions are in ``sessions``; the channel each session takes at its moment in ``moments``.
"""

from __future__ import annotations

import numpy as np

from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import PoissonTable, Purpose, Streams, categorical
from parcours.simulator.model.sorting import argsort_floats, lexsort_groups, sort_ints
from parcours.simulator.plan.campaigns import Messages, plan_campaigns
from parcours.simulator.plan.carts import lost_carts
from parcours.simulator.plan.intents import (
    Starts,
    contact_starts,
    intent_starts,
    journey_key,
    phases,
    repeat_rows,
)
from parcours.simulator.plan.moments import Planning, Rows, draw_channels, outages, settle_closed
from parcours.simulator.plan.sessions import (
    APP,
    MARKETPLACE,
    MAX_PLANNED_STEPS,
    MIX,
    MOBILE_WEB,
    NO_CHANNEL,
    OWN_DEVICE,
    PHONE,
    SERVICE_MIX,
    SERVICE_SLOT,
    STORE,
    PlannedJourneys,
    PlannedSessions,
    product_of,
    when_open,
)


def _campaign_journeys(
    model: Model, streams: Streams, customers: Customers, messages: Messages
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A click starts a short journey on the channel the persona answers on, the same day."""
    t = model.tables
    crow = messages.customer
    jid = messages.journey_id
    n = len(jid)
    clicked = messages.clicked
    # Draws for the messages clicked only: the others start no session.
    c = np.flatnonzero(clicked)
    persona = customers.persona[crow[c]]
    extra = PoissonTable(np.maximum(t["research_sessions"] - 1.0, 0.0)).draw(
        persona, streams.uniform(Purpose.SESSIONS, jid[c])
    )
    n_clicked = np.minimum(1 + extra, MAX_PLANNED_STEPS)
    propensity = np.minimum(0.95, t["propensity"][persona] * model.scenario.demand.propensity_multiplier)
    buys = np.zeros(n, dtype=bool)
    buys[c] = streams.uniform(Purpose.BUYS, jid[c]) < propensity
    start = when_open(  # of the clicked messages' journeys
        model,
        messages.open_s[c] + 60.0,
        messages.respond_channel[c],
        streams.uniform(Purpose.RESPONSE, jid[c], 4),
    )
    # the sessions of the clicked messages only (a month's messages are millions, its clicks a few %)
    crow_of, step = repeat_rows(n_clicked)
    jrow = c[crow_of]
    gaps = streams.exponential(t["gap_s"][persona[crow_of]], Purpose.SESSION_GAP, jid[jrow], step)
    gaps[step == 0] = 0.0
    last = step == n_clicked[crow_of] - 1
    channel = np.where(step == 0, messages.respond_channel[jrow], MIX)
    buy = buys[jrow] & last
    # a purchase after the first session goes where the persona buys (buy_on), as an intent's does
    where = categorical(t["buy_on_cum"], persona[crow_of], streams.uniform(Purpose.CHANNEL, jid[jrow], 63))
    buy_channel = np.select([where == 0, where == 2, where == 3], [STORE, MARKETPLACE, PHONE], OWN_DEVICE)
    sessions = {
        "jrow": jrow,
        "start": start[crow_of] + _cumsum_within(gaps, step == 0),
        "channel": np.where(buy & (step > 0), buy_channel, channel),
        "buy": buy,
    }
    journeys = {
        "id": jid,
        "customer": crow,
        "buys": buys,
        "service": np.zeros(n, dtype=bool),
        "campaign": messages.campaign.astype(np.int32, copy=False),
        "responded": clicked,
    }
    return journeys, sessions


def _service(
    model: Model, streams: Streams, customers: Customers, starts: Starts
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A service contact: one session, at an hour from the persona's curve, on a service channel."""
    crow = starts.crow
    persona = customers.persona[crow].astype(np.int64)
    jid = journey_key(customers.ids[crow], starts.day, SERVICE_SLOT + starts.slot)
    weekend = model.window_weekend[starts.day].astype(np.int64)
    hour = categorical(
        model.tables["hour_cum"], persona * 2 + weekend, streams.uniform(Purpose.JOURNEY_HOUR, jid)
    )
    start = model.window_starts[starts.day, hour] - model.t0
    start += 3600.0 * streams.uniform(Purpose.JOURNEY_MINUTE, jid)
    n = len(jid)
    sessions = {
        "jrow": np.arange(n),
        "start": start,
        "channel": np.full(n, SERVICE_MIX),
        "buy": np.zeros(n, bool),
    }
    journeys = {
        "id": jid,
        "customer": crow,
        "buys": np.zeros(n, bool),
        "service": np.ones(n, bool),
        "campaign": np.full(n, -1, np.int32),
        "responded": np.ones(n, bool),
    }
    return journeys, sessions


def plan(
    model: Model, streams: Streams, file: Customers
) -> tuple[PlannedJourneys, PlannedSessions, Messages, Customers]:
    """The shard's plan, and its acting customers (the journeys' and messages' rows point into them)."""
    starts = intent_starts(model, streams, file)
    contacts = contact_starts(model, streams, file)
    messages = plan_campaigns(model, streams, file)
    # who acts: the file's rows with an intent, a contact or a message (counted, not sorted: a month's
    # messages are millions of rows); their rows among the acting customers by a lookup table
    acting = np.flatnonzero(
        np.bincount(np.concatenate([starts.crow, contacts.crow, messages.customer]), minlength=len(file))
    )
    customers = file.take(acting)
    row_of = np.zeros(len(file), dtype=np.int64)
    row_of[acting] = np.arange(len(acting))
    starts.crow = row_of[starts.crow]
    contacts.crow = row_of[contacts.crow]
    messages.customer = row_of[messages.customer]
    parts = [
        phases(model, streams, customers, starts),
        _service(model, streams, customers, contacts),
        _campaign_journeys(model, streams, customers, messages),
    ]
    offsets = np.cumsum([0] + [len(j["id"]) for j, _ in parts])
    j = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
    s = {key: np.concatenate([p[1][key] for p in parts]) for key in parts[0][1]}
    s["jrow"] = np.concatenate([p[1]["jrow"] + off for p, off in zip(parts, offsets, strict=False)])
    # sorted by id: a journey's row is found by searchsorted (the sorted ids come with the order)
    by_id, ids = sort_ints(j["id"])
    j = {key: col[by_id] for key, col in j.items() if key != "id"} | {"id": ids}
    new_row = np.empty_like(by_id)
    new_row[by_id] = np.arange(len(by_id))
    s["jrow"] = new_row[s["jrow"]]
    product = np.full(len(by_id), -1, dtype=np.int64)  # drawn below, for the journeys with a session
    journeys = PlannedJourneys(
        j["id"], j["customer"], j["buys"], j["service"], product, j["campaign"], j["responded"]
    )
    # every message is a journey of the campaign part, in the messages' order
    messages.journey_row = new_row[offsets[2] : offsets[2] + len(messages.journey_id)]
    sessions = _sessions(Planning(model, streams, customers, journeys), s)
    # a focal product for the journeys with a session only: products are read through sessions (and
    # what they lead to); a month's messages never clicked are most of its journeys
    with_session = np.zeros(len(journeys), dtype=bool)
    with_session[sessions.journey] = True
    rows = np.flatnonzero(with_session)
    product[rows] = _focal_product(model, streams, journeys.id[rows])
    return journeys, sessions, messages, customers


def _sessions(p: Planning, s: dict[str, np.ndarray]) -> PlannedSessions:
    """Steps in time order within each journey, channels drawn for the moment, the run's days kept."""
    model, customers, journeys = p.model, p.customers, p.journeys
    order = lexsort_groups(s["start"], s["jrow"])
    jrow, start = s["jrow"][order], s["start"][order]
    first = np.r_[True, jrow[1:] != jrow[:-1]]
    step = np.arange(len(jrow)) - np.maximum.accumulate(np.where(first, np.arange(len(jrow)), 0))
    kept = (start >= 0.0) & (start < model.horizon_s)
    rows = order[kept]  # (the other columns gathered once, for the rows kept)
    r = Rows(jrow[kept], step[kept], start[kept], s["channel"][rows], s["buy"][rows])
    r.channel = draw_channels(p, r)
    r.channel[(r.channel == APP) & ~customers.app[journeys.customer[r.jrow]]] = MOBILE_WEB
    r = r.take(outages(p, r))
    r.start, r.channel = settle_closed(p, r)
    r = r.take(r.start < model.horizon_s)
    prev = np.full(len(r), NO_CHANNEL, dtype=np.int64)
    same_journey = np.zeros(len(r), dtype=bool)  # no session (a run of one customer may have none)
    same_journey[1:] = r.jrow[1:] == r.jrow[:-1]
    prev[same_journey] = r.channel[:-1][same_journey[1:]]
    buy = r.buy & ~lost_carts(model, p.streams, customers, journeys, r.jrow, r.step, r.channel, r.buy)
    order = argsort_floats(r.start)
    return PlannedSessions(
        r.jrow[order],
        r.step[order],
        r.start[order],
        r.channel[order].astype(np.int8),
        buy[order],
        prev[order].astype(np.int8),
    )


def _cumsum_within(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running sums that restart where ``first`` is true."""
    total = np.cumsum(values)
    base = np.maximum.accumulate(np.where(first, total - values, 0.0))
    return total - base


def _focal_product(model: Model, streams: Streams, jid: np.ndarray) -> np.ndarray:
    """Popular products are looked at far more often (a few hot keys, a long tail)."""
    return product_of(model.scenario.stores.products, streams.uniform(Purpose.PRODUCT, jid))
