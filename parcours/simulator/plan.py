"""A shard's days planned in bulk: purchase journeys, campaign responses and service contacts.

A journey is one purchase intent: a start hour from the persona's activity curve, a few sessions spaced
out over the day, each on the channel the persona prefers at that hour, the last one where it buys if it
does. Everything is drawn per journey from the customers' own streams, in NumPy, for all at once; what
depends on other customers (queues, stock) is left to the SimPy day.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.channels import CAN_BUY, IDENTIFIES
from parcours.simulator.identity import linked_on
from parcours.simulator.messages import Messages, plan_campaigns
from parcours.simulator.model import Model
from parcours.simulator.population import Customers
from parcours.simulator.rng import Purpose, Streams, categorical, cumulative
from parcours.vocabulary import Channel

# A journey's sessions are numbered: 0..11 planned, 12..23 a second screen during the store visit of
# step - 12, 24..61 follow-ups (call-backs, pick-ups, returns...), 62 and 63 the campaign message.
MAX_PLANNED_STEPS = 12
COMPANION_STEP = 12
FIRST_FOLLOW_UP, LAST_FOLLOW_UP = 24, 61
STEP_BITS = 6
CAMPAIGN_SLOT = 64  # journey numbers 64..127 in a day answer campaigns
SERVICE_SLOT = 128  # journey numbers from 128 on in a day are service contacts
APP = CHANNEL_CODE[Channel.MOBILE_APP]
MOBILE_WEB = CHANNEL_CODE[Channel.MOBILE_WEB]
NO_CHANNEL = -1


def journey_key(customer: np.ndarray, day: np.ndarray | int, slot: np.ndarray | int) -> np.ndarray:
    return (np.asarray(customer, np.int64) << 20) | (np.int64(day) << 8) | np.asarray(slot, np.int64)


def session_key(journey: np.ndarray | int, step: np.ndarray | int) -> np.ndarray:
    return (np.asarray(journey, np.int64) << STEP_BITS) | np.asarray(step, dtype=np.int64)


def repeat_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: the row of every item and the item's index within its row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(len(rows)) - starts[rows]


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


def _organic(
    model: Model, streams: Streams, customers: Customers, day: int, service: bool
) -> dict[str, np.ndarray]:
    t, demand = model.tables, model.scenario.demand
    weekend = bool(model.weekend[day])
    if service:
        rate = t["contacts_per_day"][customers.persona] * demand.contacts_multiplier
        purpose, first_slot, cap = Purpose.CONTACTS, SERVICE_SLOT, 127
    else:
        rate = t["journeys_weekend" if weekend else "journeys_weekday"][customers.persona]
        rate = rate * demand.journeys_multiplier
        purpose, first_slot, cap = Purpose.JOURNEYS, 0, CAMPAIGN_SLOT - 1
    counts = np.minimum(streams.poisson(rate * customers.activity, purpose, customers.ids, day), cap)
    rows, slot = repeat_rows(counts)
    persona = customers.persona[rows]
    jid = journey_key(customers.ids[rows], day, first_slot + slot)
    hour = categorical(t["hour_cum"], persona * 2 + weekend, streams.uniform(Purpose.JOURNEY_HOUR, jid))
    start = model.hour_starts[day, hour] - model.t0 + 3600.0 * streams.uniform(Purpose.JOURNEY_MINUTE, jid)
    n = len(jid)
    if service:
        n_sessions = np.ones(n, dtype=np.int64)
        buys = np.zeros(n, dtype=bool)
    else:
        n_sessions = 1 + streams.poisson(t["sessions_per_journey"][persona] - 1.0, Purpose.SESSIONS, jid)
        buys = streams.uniform(Purpose.BUYS, jid) < _propensity(model, persona)
    return {
        "id": jid,
        "customer": rows,
        "start": start,
        "n_sessions": np.minimum(n_sessions, MAX_PLANNED_STEPS),
        "buys": buys,
        "service": np.full(n, service),
        "campaign": np.full(n, -1, np.int32),
        "responded": np.ones(n, dtype=bool),
        "first_channel": np.full(n, NO_CHANNEL, np.int64),
    }


def _propensity(model: Model, persona: np.ndarray) -> np.ndarray:
    return np.minimum(0.95, model.tables["propensity"][persona] * model.scenario.demand.propensity_multiplier)


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
) -> dict[str, np.ndarray]:
    t = model.tables
    crow = messages.customer
    persona = customers.persona[crow]
    jid = messages.journey_id
    n = len(jid)
    clicked = messages.clicked
    n_sessions = 1 + streams.poisson(t["sessions_per_journey"][persona] - 1.0, Purpose.SESSIONS, jid)
    return {
        "id": jid,
        "customer": crow,
        "start": when_open(
            model,
            messages.open_s + 60.0,
            messages.respond_channel,
            streams.uniform(Purpose.RESPONSE, jid, 4),
        ),
        "n_sessions": np.where(clicked, np.minimum(n_sessions, MAX_PLANNED_STEPS), 0),
        "buys": clicked & (streams.uniform(Purpose.BUYS, jid) < _propensity(model, persona)),
        "service": np.zeros(n, dtype=bool),
        "campaign": messages.campaign.astype(np.int32),
        "responded": clicked,
        "first_channel": messages.respond_channel,
    }


def plan(model: Model, streams: Streams, customers: Customers) -> tuple[Journeys, Sessions, Messages]:
    messages = plan_campaigns(model, streams, customers)
    parts = [
        _organic(model, streams, customers, day, service)
        for day in range(model.days)
        for service in (False, True)
    ]
    parts.append(_campaign_journeys(model, streams, customers, messages))
    j = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    by_id = np.argsort(j["id"], kind="stable")  # sorted by id: a journey's row is found by searchsorted
    j = {key: col[by_id] for key, col in j.items()}
    product = _focal_product(model, streams, j["id"])
    journeys = Journeys(
        j["id"], j["customer"], j["buys"], j["service"], product, j["campaign"], j["responded"]
    )
    messages.journey_row = np.searchsorted(journeys.id, messages.journey_id)
    return journeys, _sessions(model, streams, customers, journeys, j), messages


def _sessions(
    model: Model, streams: Streams, customers: Customers, journeys: Journeys, j: dict[str, np.ndarray]
) -> Sessions:
    jrow, step = repeat_rows(j["n_sessions"])
    persona = customers.persona[j["customer"][jrow]]
    gaps = streams.exponential(model.tables["gap_s"][persona], Purpose.SESSION_GAP, j["id"][jrow], step)
    gaps[step == 0] = 0.0
    start = j["start"][jrow] + _cumsum_within(gaps, step == 0)
    keep = start < model.horizon_s
    jrow, step, start = jrow[keep], step[keep], start[keep]
    buy = j["buys"][jrow] & (step == j["n_sessions"][jrow] - 1)
    channel = _draw_channels(model, streams, journeys, customers, jrow, step, start, buy)
    first = (step == 0) & (j["first_channel"][jrow] != NO_CHANNEL)
    channel[first] = j["first_channel"][jrow][first]
    channel[(channel == APP) & ~customers.app[journeys.customer[jrow]]] = MOBILE_WEB
    alive, channel = _outages(model, streams, journeys, customers, jrow, step, start, channel)
    jrow, step, start, channel, buy = jrow[alive], step[alive], start[alive], channel[alive], buy[alive]
    start, channel = _settle_closed(model, streams, journeys, customers, jrow, step, start, channel, buy)
    keep = start < model.horizon_s
    jrow, step, start, channel, buy = jrow[keep], step[keep], start[keep], channel[keep], buy[keep]
    prev = np.full(len(jrow), NO_CHANNEL, dtype=np.int64)
    same_journey = np.r_[False, jrow[1:] == jrow[:-1]]
    prev[same_journey] = channel[:-1][same_journey[1:]]
    buy &= ~_gives_up_on_switch(model, streams, customers, journeys, jrow, step, channel, prev, buy)
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
    buy: np.ndarray,
) -> np.ndarray:
    t = model.tables
    group = mix_group(model, customers.persona[journeys.customer[jrow]], start)
    u = streams.uniform(Purpose.CHANNEL, journeys.id[jrow], step)
    channel = categorical(t["channel_cum"], group, u)
    channel = np.where(buy, categorical(t["buy_cum"], group, u), channel)
    return np.where(journeys.service[jrow], categorical(t["service_cum"], group, u), channel)


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
    it); once it has closed, or on a closed day (Sunday), the customer uses another open channel."""
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
        moved[rows[today]] = later[today]
        other = rows[~today]
        if len(other):
            channel[other] = _open_instead(
                model, streams, journeys, customers, jrow[other], step[other], start[other], buy[other]
            )
    if (moved != start).any():
        moved = start + _running_max_within(moved - start, jrow)
        # a session pushed later by an earlier one may now fall after closing: another channel then
        for code, opening in model.opening.items():
            rows = np.flatnonzero((channel == code) & ~opening.is_open(moved) & (moved < model.horizon_s))
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


def _gives_up_on_switch(
    model: Model,
    streams: Streams,
    customers: Customers,
    journeys: Journeys,
    jrow: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
    prev: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """A buyer who changes channel and finds the new one knows nothing of the last may give up."""
    switching = buy & (prev != NO_CHANNEL) & (prev != channel) & CAN_BUY[channel]
    crow = journeys.customer[jrow]
    jid = journeys.id[jrow]
    prev_safe = np.where(prev == NO_CHANNEL, 0, prev)
    known_before = linked_on(
        model.scenario.integration,
        prev_safe,
        logs_in(model, streams, customers, crow, jid, step - 1, prev_safe),
        customers.account[crow],
    )
    known_now = linked_on(
        model.scenario.integration,
        channel,
        logs_in(model, streams, customers, crow, jid, step, channel),
        customers.account[crow],
    )
    context_lost = ~(known_before & known_now)
    friction = model.tables["switch_friction"][customers.persona[crow]]
    return switching & context_lost & (streams.uniform(Purpose.JOURNEY_PATH, jid) < friction)


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
