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
from parcours.simulator.model.build import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import Purpose, Streams, categorical, cumulative, poisson_from_uniform
from parcours.simulator.plan.campaigns import Messages, plan_campaigns
from parcours.simulator.plan.carts import logs_in, lost_carts
from parcours.simulator.plan.intents import (
    Starts,
    contact_starts,
    intent_starts,
    journey_key,
    phases,
    repeat_rows,
)
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
MARKETPLACE = CHANNEL_CODE[Channel.MARKETPLACE]
NO_CHANNEL = -1
# Channels still to draw when a session is planned: from the hour's mix, the own site's devices at
# that hour, the channels one can buy on at that hour, the service channels.
MIX, OWN_DEVICE, BUY_MIX, SERVICE_MIX = -1, -2, -3, -4

__all__ = ["journey_key", "logs_in", "repeat_rows"]


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


def when_open(model: Model, at_s: np.ndarray, channel: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
    """When each session can happen on its channel: at ``at_s`` if open; else, with ``u``, at a time
    drawn from the next opening day's shape (without ``u``, at the next opening instant)."""
    out = np.array(at_s, dtype=np.float64)
    for code, opening in model.opening.items():
        rows = np.flatnonzero(channel == code)
        if len(rows) == 0:
            continue
        if u is None:
            out[rows] = opening.next_opening(out[rows])
        else:
            out[rows] = opening.move(out[rows], np.asarray(u)[rows])
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
    start = when_open(
        model, messages.open_s + 60.0, messages.respond_channel, streams.uniform(Purpose.RESPONSE, jid, 4)
    )
    jrow, step = repeat_rows(n_sessions)
    gaps = streams.exponential(t["gap_s"][persona[jrow]], Purpose.SESSION_GAP, jid[jrow], step)
    gaps[step == 0] = 0.0
    last = step == n_sessions[jrow] - 1
    channel = np.where(step == 0, messages.respond_channel[jrow], MIX)
    buy = buys[jrow] & last
    # a purchase after the first session goes where the persona buys (buy_on), as an intent's does
    where = categorical(t["buy_on_cum"], persona[jrow], streams.uniform(Purpose.CHANNEL, jid[jrow], 63))
    buy_channel = np.select([where == 0, where == 2, where == 3], [STORE, MARKETPLACE, PHONE], OWN_DEVICE)
    sessions = {
        "jrow": jrow,
        "start": start[jrow] + _cumsum_within(gaps, step == 0),
        "channel": np.where(buy & (step > 0), buy_channel, channel),
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
    channel[(channel == APP) & ~customers.app[journeys.customer[jrow]]] = MOBILE_WEB
    alive, channel = _outages(model, streams, journeys, customers, jrow, step, start, channel)
    jrow, step, start, channel, buy = jrow[alive], step[alive], start[alive], channel[alive], buy[alive]
    start, channel = _settle_closed(model, streams, journeys, customers, jrow, step, start, channel, buy)
    keep = start < model.horizon_s
    jrow, step, start, channel, buy = jrow[keep], step[keep], start[keep], channel[keep], buy[keep]
    prev = np.full(len(jrow), NO_CHANNEL, dtype=np.int64)
    same_journey = np.r_[False, jrow[1:] == jrow[:-1]]
    prev[same_journey] = channel[:-1][same_journey[1:]]
    buy &= ~lost_carts(model, streams, customers, journeys, jrow, step, channel, buy)
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


def _settle_closed(
    model: Model,
    streams: Streams,
    journeys: Journeys,
    customers: Customers,
    jrow: np.ndarray,
    step: np.ndarray,
    start: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sessions planned on a store or desk while it is closed. Before it opens that day, the customer
    comes later that day (a time drawn from the day's shape, the journey's later sessions waiting for
    it); once it has closed, or on a closed day (Sunday), a purchase waits for the next opening (a time
    drawn from that day's shape) and any other session goes to another open channel."""
    moved = start.copy()
    channel = channel.copy()
    for code, opening in model.opening.items():
        rows = np.flatnonzero((channel == code) & ~opening.is_open(start))
        if len(rows) == 0:
            continue
        jid = journeys.id[jrow[rows]]
        later = opening.move(start[rows], streams.uniform(Purpose.JOURNEY_MINUTE, jid, step[rows], 1))
        day, _ = local_hour(model, start[rows])
        today = local_hour(model, np.where(np.isfinite(later), later, start[rows]))[0] == day
        # a purchase waits for the store to open (Gruen, Corsten & Bharadwaj 2002: shoppers who cannot
        # buy delay or go elsewhere far more than they switch channel); a look goes elsewhere at once
        wait = today | buy[rows]
        moved[rows[wait]] = later[wait]
        other = rows[~wait]
        if len(other):
            channel[other] = _open_instead(
                model, streams, journeys, customers, jrow[other], step[other], start[other], buy[other]
            )
    if (moved != start).any():
        moved = start + _running_max_within(moved - start, jrow)
        # a session pushed later by an earlier one may now fall after closing: a purchase waits for
        # the next opening, any other session goes to another channel
        for code, opening in model.opening.items():
            rows = np.flatnonzero((channel == code) & ~opening.is_open(moved) & (moved < model.horizon_s))
            waits = rows[buy[rows]]
            if len(waits):
                u = streams.uniform(Purpose.JOURNEY_MINUTE, journeys.id[jrow[waits]], step[waits], 2)
                moved[waits] = opening.move(moved[waits], u)
            rows = rows[~buy[rows]]
            if len(rows):
                channel[rows] = _open_instead(
                    model, streams, journeys, customers, jrow[rows], step[rows], moved[rows], buy[rows]
                )
    return moved, channel


def _running_max_within(delta: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running maximum of non-negative ``delta`` that restarts where ``group`` changes (rows grouped)."""
    new_group = np.r_[True, group[1:] != group[:-1]]
    offset = np.cumsum(new_group) * 1e7  # far above any delay within a day
    return np.maximum.accumulate(delta + offset) - offset


def _open_instead(
    model: Model,
    streams: Streams,
    journeys: Journeys,
    customers: Customers,
    jrow: np.ndarray,
    step: np.ndarray,
    start: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """The channel the customer would have drawn among those open at that moment."""
    t = model.tables
    group = mix_group(model, customers.persona[journeys.customer[jrow]], start)
    table = np.where(buy[:, None], t["buy_cum"][group], t["channel_cum"][group])
    table = np.where(journeys.service[jrow][:, None], t["service_cum"][group], table)
    weights = np.diff(table, axis=1, prepend=0.0)
    for code, opening in model.opening.items():
        weights[~opening.is_open(start), code] = 0.0
    weights[weights.sum(axis=1) == 0, MOBILE_WEB] = 1.0
    u = streams.uniform(Purpose.CHANNEL, journeys.id[jrow], step)
    return categorical(cumulative(weights), np.arange(len(jrow)), u)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


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
