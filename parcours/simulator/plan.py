"""A shard's days planned in bulk: purchase intents and their phases, campaign responses, service
contacts, and the sessions they make.

Who acts is decided for the whole file at once (``intents``); everything else is drawn for the acting
customers only, per journey, from their own streams, in NumPy; what depends on other customers (queues,
stock) is left to the SimPy day.

A journey's sessions are numbered in time order: 0..11 planned (research first, the purchase last),
12..23 a second screen during the store visit of step - 12, 24..61 follow-ups (call-backs, pick-ups,
returns...), 62 and 63 the campaign message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.channels import IDENTIFIES, OWN_SITE
from parcours.simulator.identity import linked_on
from parcours.simulator.intents import (
    Starts,
    contact_starts,
    intent_starts,
    journey_key,
    phases,
    repeat_rows,
)
from parcours.simulator.messages import Messages, plan_campaigns
from parcours.simulator.model import Model
from parcours.simulator.population import Customers
from parcours.simulator.rng import Purpose, Streams, categorical, cumulative, poisson_from_uniform
from parcours.vocabulary import Channel

MAX_PLANNED_STEPS = 12
COMPANION_STEP = 12
FIRST_FOLLOW_UP, LAST_FOLLOW_UP = 24, 61
STEP_BITS = 6
CAMPAIGN_SLOT = 64  # journey numbers 64..127 in a day answer campaigns
SERVICE_SLOT = 128  # journey numbers from 128 on in a day are service contacts
APP = CHANNEL_CODE[Channel.MOBILE_APP]
MOBILE_WEB = CHANNEL_CODE[Channel.MOBILE_WEB]
STORE = CHANNEL_CODE[Channel.STORE]
PHONE = CHANNEL_CODE[Channel.PHONE]
NO_CHANNEL = -1
# Channels still to draw when a session is planned: from the hour's mix, the own site's devices at
# that hour, the channels one can buy on at that hour, the service channels.
MIX, OWN_DEVICE, BUY_MIX, SERVICE_MIX = -1, -2, -3, -4

__all__ = ["journey_key", "repeat_rows"]


def session_key(journey: np.ndarray | int, step: np.ndarray | int) -> np.ndarray:
    return (np.asarray(journey, np.int64) << STEP_BITS) | np.asarray(step, dtype=np.int64)


@dataclass
class Journeys:
    """One row per journey of the shard, sorted by id (outcomes are filled in as the day runs)."""

    id: np.ndarray  # int64
    customer: np.ndarray  # row into Customers
    buys: np.ndarray  # bool: the intent ends in a purchase if nothing stops it
    service: np.ndarray  # bool: a service contact rather than a purchase intent
    product: np.ndarray  # int64 focal product
    campaign: np.ndarray  # int32 campaign answered, -1 for none
    responded: np.ndarray  # bool: an intent at all (a campaign journey without a click is not)

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class Sessions:
    """One row per planned session, sorted by start time."""

    journey: np.ndarray  # row into Journeys
    step: np.ndarray  # int64 index within the journey
    start_s: np.ndarray  # float64 seconds since the run's t0
    channel: np.ndarray  # int8 channel code
    buy: np.ndarray  # bool: the purchase step of a buying journey
    prev_channel: np.ndarray  # int8 channel of the journey's previous session, -1 for the first

    def __len__(self) -> int:
        return len(self.journey)

    def take(self, index: np.ndarray | slice) -> Sessions:
        return Sessions(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Sessions]) -> Sessions:
        return Sessions(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Sessions)))


def local_hour(model: Model, start_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day index and local hour of times given in seconds since t0."""
    edges = model.hour_starts.ravel() - model.t0
    idx = np.clip(np.searchsorted(edges, start_s, side="right") - 1, 0, len(edges) - 1)
    return idx // 24, idx % 24


def mix_group(model: Model, persona: np.ndarray, start_s: np.ndarray) -> np.ndarray:
    """Row of the channel tables for each (persona, weekday or weekend, local hour)."""
    day, hour = local_hour(model, start_s)
    weekend = model.weekend[np.minimum(day, model.days - 1)]
    return (persona.astype(np.int64) * 2 + weekend) * 24 + hour


def logs_in(
    model: Model,
    streams: Streams,
    customers: Customers,
    crow: np.ndarray,
    jid: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """Whether the customer logs in during that session (one draw, shared by planning and events)."""
    rate = model.tables["login_rate"][customers.persona[crow]]
    return IDENTIFIES[channel] & customers.account[crow] & (streams.uniform(Purpose.LOGIN, jid, step) < rate)


def when_open(model: Model, at_s: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """The first moment at or after ``at_s`` when the channel is open (stores, the call centre)."""
    edges = model.hour_starts.ravel() - model.t0
    out = np.array(at_s, dtype=np.float64)
    for code, hours in model.opening.items():
        rows = np.flatnonzero(channel == code)
        if len(rows) == 0:
            continue
        open_flat = np.tile(hours, len(model.hour_starts))
        # the start of the first open hour at or after each hour (inf where none is left)
        next_open = np.full(len(edges) + 1, np.inf)
        for i in range(len(edges) - 1, -1, -1):
            next_open[i] = edges[i] if open_flat[i] else next_open[i + 1]
        idx = np.clip(np.searchsorted(edges, out[rows], side="right") - 1, 0, len(edges) - 1)
        out[rows] = np.where(open_flat[idx], out[rows], next_open[idx])
    return out


def _campaign_journeys(
    model: Model, streams: Streams, customers: Customers, messages: Messages
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A click starts a short journey on the channel the persona answers on, the same day."""
    t = model.tables
    crow = messages.customer
    persona = customers.persona[crow]
    jid = messages.journey_id
    n = len(jid)
    clicked = messages.clicked
    extra = poisson_from_uniform(
        np.maximum(t["research_sessions"][persona] - 1.0, 0.0), streams.uniform(Purpose.SESSIONS, jid)
    )
    n_sessions = np.where(clicked, np.minimum(1 + extra, MAX_PLANNED_STEPS), 0)
    propensity = np.minimum(0.95, t["propensity"][persona] * model.scenario.demand.propensity_multiplier)
    buys = clicked & (streams.uniform(Purpose.BUYS, jid) < propensity)
    start = when_open(model, messages.open_s + 60.0, messages.respond_channel)
    jrow, step = repeat_rows(n_sessions)
    gaps = streams.exponential(t["gap_s"][persona[jrow]], Purpose.SESSION_GAP, jid[jrow], step)
    gaps[step == 0] = 0.0
    last = step == n_sessions[jrow] - 1
    channel = np.where(step == 0, messages.respond_channel[jrow], MIX)
    buy = buys[jrow] & last
    sessions = {
        "jrow": jrow,
        "start": start[jrow] + _cumsum_within(gaps, step == 0),
        "channel": np.where(buy & (step > 0), BUY_MIX, channel),
        "buy": buy,
    }
    journeys = {
        "id": jid,
        "customer": crow,
        "buys": buys,
        "service": np.zeros(n, dtype=bool),
        "campaign": messages.campaign.astype(np.int32),
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


def plan(model: Model, streams: Streams, file: Customers) -> tuple[Journeys, Sessions, Messages, Customers]:
    """The shard's plan, and its acting customers (the journeys' and messages' rows point into them)."""
    starts = intent_starts(model, streams, file)
    contacts = contact_starts(model, streams, file)
    messages = plan_campaigns(model, streams, file)
    acting = np.unique(np.concatenate([starts.crow, contacts.crow, messages.customer]))
    customers = file.take(acting)
    starts.crow = np.searchsorted(acting, starts.crow)
    contacts.crow = np.searchsorted(acting, contacts.crow)
    messages.customer = np.searchsorted(acting, messages.customer)
    parts = [
        phases(model, streams, customers, starts),
        _service(model, streams, customers, contacts),
        _campaign_journeys(model, streams, customers, messages),
    ]
    offsets = np.cumsum([0] + [len(j["id"]) for j, _ in parts])
    j = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
    s = {key: np.concatenate([p[1][key] for p in parts]) for key in parts[0][1]}
    s["jrow"] = np.concatenate([p[1]["jrow"] + off for p, off in zip(parts, offsets, strict=False)])
    by_id = np.argsort(j["id"], kind="stable")  # sorted by id: a journey's row is found by searchsorted
    j = {key: col[by_id] for key, col in j.items()}
    new_row = np.empty_like(by_id)
    new_row[by_id] = np.arange(len(by_id))
    s["jrow"] = new_row[s["jrow"]]
    product = _focal_product(model, streams, j["id"])
    journeys = Journeys(
        j["id"], j["customer"], j["buys"], j["service"], product, j["campaign"], j["responded"]
    )
    messages.journey_row = np.searchsorted(journeys.id, messages.journey_id)
    return journeys, _sessions(model, streams, customers, journeys, s), messages, customers


def _sessions(
    model: Model, streams: Streams, customers: Customers, journeys: Journeys, s: dict[str, np.ndarray]
) -> Sessions:
    """Steps in time order within each journey, channels drawn for the moment, the run's days kept."""
    order = np.lexsort((s["start"], s["jrow"]))
    jrow, start, channel, buy = (s[k][order] for k in ("jrow", "start", "channel", "buy"))
    first = np.r_[True, jrow[1:] != jrow[:-1]]
    step = np.arange(len(jrow)) - np.maximum.accumulate(np.where(first, np.arange(len(jrow)), 0))
    keep = (start >= 0.0) & (start < model.horizon_s)
    jrow, step, start, channel, buy = jrow[keep], step[keep], start[keep], channel[keep], buy[keep]
    channel = _draw_channels(model, streams, journeys, customers, jrow, step, start, channel)
    # a store or the phone at a closed moment (a purchase pushed after closing): the next opening
    start = when_open(model, start, channel)
    keep = start < model.horizon_s
    jrow, step, start, channel, buy = jrow[keep], step[keep], start[keep], channel[keep], buy[keep]
    channel[(channel == APP) & ~customers.app[journeys.customer[jrow]]] = MOBILE_WEB
    alive, channel = _outages(model, streams, journeys, customers, jrow, step, start, channel)
    jrow, step, start, channel, buy = jrow[alive], step[alive], start[alive], channel[alive], buy[alive]
    prev = np.full(len(jrow), NO_CHANNEL, dtype=np.int64)
    same_journey = np.r_[False, jrow[1:] == jrow[:-1]]
    prev[same_journey] = channel[:-1][same_journey[1:]]
    buy &= ~_lost_carts(model, streams, customers, journeys, jrow, step, channel, buy)
    order = np.argsort(start, kind="stable")
    return Sessions(
        jrow[order],
        step[order],
        start[order],
        channel[order].astype(np.int8),
        buy[order],
        prev[order].astype(np.int8),
    )


def _cumsum_within(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running sums that restart where ``first`` is true."""
    total = np.cumsum(values)
    base = np.maximum.accumulate(np.where(first, total - values, 0.0))
    return total - base


def _draw_channels(
    model: Model,
    streams: Streams,
    journeys: Journeys,
    customers: Customers,
    jrow: np.ndarray,
    step: np.ndarray,
    start: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """The channels still to draw (negative codes), from the persona's tables at that hour."""
    t = model.tables
    group = mix_group(model, customers.persona[journeys.customer[jrow]], start)
    u = streams.uniform(Purpose.CHANNEL, journeys.id[jrow], step)
    out = channel.astype(np.int64)
    for code, table in (
        (MIX, "channel_cum"),
        (OWN_DEVICE, "own_cum"),
        (BUY_MIX, "buy_cum"),
        (SERVICE_MIX, "service_cum"),
    ):
        rows = np.flatnonzero(out == code)
        if len(rows):
            out[rows] = categorical(t[table], group[rows], u[rows])
    return out


def _outages(
    model: Model,
    streams: Streams,
    journeys: Journeys,
    customers: Customers,
    jrow: np.ndarray,
    step: np.ndarray,
    start: np.ndarray,
    channel: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sessions that fall on a channel while it is down: moved to another channel, or given up."""
    alive = np.ones(len(jrow), dtype=bool)
    for outage in model.scenario.outages:
        code = CHANNEL_CODE[outage.channel]
        day_start = model.hour_starts[outage.day - 1, 0] - model.t0
        begins = day_start + _minutes(outage.begins) * 60.0
        ends = day_start + _minutes(outage.ends) * 60.0
        hit = (channel == code) & (start >= begins) & (start < ends)
        if not hit.any():
            continue
        rows = np.flatnonzero(hit)
        jid = journeys.id[jrow[rows]]
        switches = streams.uniform(Purpose.OUTAGE, jid, step[rows]) < outage.switch_rate
        group = mix_group(model, customers.persona[journeys.customer[jrow[rows]]], start[rows])
        weights = np.diff(model.tables["channel_cum"][group], axis=1, prepend=0.0)
        weights[:, code] = 0.0
        other = categorical(
            cumulative(weights), np.arange(len(rows)), streams.uniform(Purpose.OUTAGE, jid, step[rows], 1)
        )
        channel[rows] = np.where(switches, other, code)
        alive[rows[~switches]] = False
    return alive, channel


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def has_cart(
    model: Model,
    streams: Streams,
    customers: Customers,
    journeys: Journeys,
    s_journey: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """Research sessions on the own site that put the product in a cart (one draw, shared by planning
    and events)."""
    crow = journeys.customer[s_journey]
    rate = model.tables["cart_rate"][customers.persona[crow]]
    research = ~buy & ~journeys.service[s_journey] & (step < MAX_PLANNED_STEPS)
    u = streams.uniform(Purpose.CART_ABANDON, journeys.id[s_journey], step)
    return OWN_SITE[channel] & research & (u < rate)


def _lost_carts(
    model: Model,
    streams: Streams,
    customers: Customers,
    journeys: Journeys,
    jrow: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """A buyer on the own site whose cart sits on another device, which does not know it (silos, or a
    customer the retailer does not recognise), may give up. Browsing on one device and buying in a store
    or on the same device needs no link and is never penalised. Rows are in (journey, time) order."""
    cart = has_cart(model, streams, customers, journeys, jrow, step, channel, buy)
    index = np.arange(len(jrow))
    last_cart = np.maximum.accumulate(np.where(cart, index, -1))
    before = np.r_[-1, last_cart[:-1]]
    crossing = buy & OWN_SITE[channel] & (before >= 0)
    crossing &= jrow[np.maximum(before, 0)] == jrow
    crossing &= channel[np.maximum(before, 0)] != channel
    rows = np.flatnonzero(crossing)
    if len(rows) == 0:
        return crossing
    cart_row = before[rows]
    crow = journeys.customer[jrow[rows]]
    jid = journeys.id[jrow[rows]]
    account = customers.account[crow]
    level = model.scenario.integration
    known_then = linked_on(
        level,
        channel[cart_row],
        logs_in(model, streams, customers, crow, jid, step[cart_row], channel[cart_row]),
        account,
    )
    known_now = linked_on(
        level,
        channel[rows],
        logs_in(model, streams, customers, crow, jid, step[rows], channel[rows]),
        account,
    )
    friction = model.tables["lost_cart_friction"][customers.persona[crow]]
    lost = np.zeros(len(jrow), bool)
    lost[rows] = ~(known_then & known_now) & (streams.uniform(Purpose.JOURNEY_PATH, jid) < friction)
    return lost


def _focal_product(model: Model, streams: Streams, jid: np.ndarray) -> np.ndarray:
    """Popular products are looked at far more often (a few hot keys, a long tail)."""
    return product_of(model.scenario.stores.products, streams.uniform(Purpose.PRODUCT, jid))


def product_of(products: int, u: np.ndarray) -> np.ndarray:
    """Product ids by popularity: P(id < k) = (k / products) ** (1/3)."""
    return np.minimum((products * u**3).astype(np.int64), products - 1)


def popularity(products: int) -> np.ndarray:
    """Each product's share of demand under ``product_of``."""
    edges = (np.arange(products + 1) / products) ** (1.0 / 3.0)
    return np.diff(edges)
