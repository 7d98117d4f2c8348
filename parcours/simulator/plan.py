"""A shard's days planned in bulk: purchase journeys and service contacts, and their sessions.

A journey is one purchase intent: a start hour from the persona's activity curve, a few sessions spaced
out over the day, each on the channel the persona prefers at that hour, the last one where it buys if it
does. Everything is drawn per journey from the customers' own streams, in NumPy, for all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model import Model
from parcours.simulator.population import Customers
from parcours.simulator.rng import Purpose, Streams, categorical
from parcours.vocabulary import Channel

MAX_PLANNED_STEPS = 12  # steps 12..15 of a journey are left for callbacks and follow-ups
SERVICE_SLOT = 128  # journey numbers from here on in a day are service contacts
APP = CHANNEL_CODE[Channel.MOBILE_APP]
MOBILE_WEB = CHANNEL_CODE[Channel.MOBILE_WEB]


def journey_key(customer: np.ndarray, day: np.ndarray | int, slot: np.ndarray) -> np.ndarray:
    return (customer.astype(np.int64) << 20) | (np.int64(day) << 8) | slot.astype(np.int64)


def session_key(journey: np.ndarray, step: np.ndarray | int) -> np.ndarray:
    return (journey << 4) | np.asarray(step, dtype=np.int64)


def _repeat_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: the row of every item and the item's index within its row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(len(rows)) - starts[rows]


@dataclass
class Journeys:
    """One row per journey of the shard, in plan order (outcomes are filled in as the day runs)."""

    id: np.ndarray  # int64
    customer: np.ndarray  # row into Customers
    buys: np.ndarray  # bool: the intent ends in a purchase if nothing stops it
    service: np.ndarray  # bool: a service contact rather than a purchase intent
    product: np.ndarray  # int64 focal product

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

    def __len__(self) -> int:
        return len(self.journey)

    def take(self, index: np.ndarray) -> Sessions:
        return Sessions(*(getattr(self, f)[index] for f in ("journey", "step", "start_s", "channel", "buy")))


def local_hour(model: Model, start_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day index and local hour of times given in seconds since t0."""
    edges = model.hour_starts.ravel() - model.t0
    idx = np.clip(np.searchsorted(edges, start_s, side="right") - 1, 0, len(edges) - 1)
    return idx // 24, idx % 24


def _purchase_journeys(
    model: Model, streams: Streams, customers: Customers, day: int
) -> dict[str, np.ndarray]:
    t = model.tables
    weekend = bool(model.weekend[day])
    rate = t["journeys_weekend" if weekend else "journeys_weekday"][customers.persona] * customers.activity
    counts = streams.poisson(rate, Purpose.JOURNEYS, customers.ids, day)
    rows, slot = _repeat_rows(np.minimum(counts, SERVICE_SLOT - 1))
    cid, persona = customers.ids[rows], customers.persona[rows]
    jid = journey_key(cid, day, slot)
    hour = categorical(t["hour_cum"], persona * 2 + weekend, streams.uniform(Purpose.JOURNEY_HOUR, jid))
    start = model.hour_starts[day, hour] - model.t0 + 3600.0 * streams.uniform(Purpose.JOURNEY_MINUTE, jid)
    n_sessions = 1 + streams.poisson(t["sessions_per_journey"][persona] - 1.0, Purpose.SESSIONS, jid)
    return {
        "id": jid,
        "customer": rows,
        "start": start,
        "n_sessions": np.minimum(n_sessions, MAX_PLANNED_STEPS),
        "buys": streams.uniform(Purpose.BUYS, jid) < t["propensity"][persona],
        "service": np.zeros(len(jid), dtype=bool),
    }


def _service_contacts(
    model: Model, streams: Streams, customers: Customers, day: int
) -> dict[str, np.ndarray]:
    t = model.tables
    weekend = bool(model.weekend[day])
    rate = t["contacts_per_day"][customers.persona] * customers.activity
    counts = np.minimum(streams.poisson(rate, Purpose.CONTACTS, customers.ids, day), 127)
    rows, slot = _repeat_rows(counts)
    cid, persona = customers.ids[rows], customers.persona[rows]
    jid = journey_key(cid, day, SERVICE_SLOT + slot)
    hour = categorical(t["hour_cum"], persona * 2 + weekend, streams.uniform(Purpose.CONTACT_TIME, jid))
    start = model.hour_starts[day, hour] - model.t0 + 3600.0 * streams.uniform(Purpose.JOURNEY_MINUTE, jid)
    return {
        "id": jid,
        "customer": rows,
        "start": start,
        "n_sessions": np.ones(len(jid), dtype=np.int64),
        "buys": np.zeros(len(jid), dtype=bool),
        "service": np.ones(len(jid), dtype=bool),
    }


def plan(model: Model, streams: Streams, customers: Customers) -> tuple[Journeys, Sessions]:
    parts = [
        draw(model, streams, customers, day)
        for day in range(model.days)
        for draw in (_purchase_journeys, _service_contacts)
    ]
    j = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    by_id = np.argsort(j["id"], kind="stable")  # journeys sorted by id: a row is found by searchsorted
    j = {key: col[by_id] for key, col in j.items()}
    persona = customers.persona[j["customer"]]
    product = _focal_product(model, streams, j["id"])
    journeys = Journeys(j["id"], j["customer"], j["buys"], j["service"], product)

    jrow, step = _repeat_rows(j["n_sessions"])
    gaps = streams.exponential(model.tables["gap_s"][persona[jrow]], Purpose.SESSION_GAP, j["id"][jrow], step)
    gaps[step == 0] = 0.0
    start = j["start"][jrow] + _cumsum_within(gaps, step == 0)
    keep = start < model.horizon_s
    jrow, step, start = jrow[keep], step[keep], start[keep]
    last = step == j["n_sessions"][jrow] - 1
    buy = j["buys"][jrow] & last
    channel = _draw_channels(model, streams, journeys, customers, jrow, step, start, buy)
    order = np.argsort(start, kind="stable")
    sessions = Sessions(jrow[order], step[order], start[order], channel[order], buy[order])
    return journeys, sessions


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
    crow = journeys.customer[jrow]
    persona = customers.persona[crow].astype(np.int64)
    day, hour = local_hour(model, start)
    group = (persona * 2 + model.weekend[np.minimum(day, model.days - 1)]) * 24 + hour
    u = streams.uniform(Purpose.CHANNEL, journeys.id[jrow], step)
    channel = categorical(t["channel_cum"], group, u)
    channel = np.where(buy, categorical(t["buy_cum"], group, u), channel)
    service = journeys.service[jrow]
    channel = np.where(service, categorical(t["service_cum"], group, u), channel)
    channel[(channel == APP) & ~customers.app[crow]] = MOBILE_WEB
    return channel.astype(np.int8)


def _focal_product(model: Model, streams: Streams, jid: np.ndarray) -> np.ndarray:
    """Popular products are looked at far more often (a few hot keys, a long tail)."""
    u = streams.uniform(Purpose.PRODUCT, jid)
    return (model.scenario.stores.products * u**3).astype(np.int64)
