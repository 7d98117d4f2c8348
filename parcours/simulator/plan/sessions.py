"""The shape of a shard's plan: its journeys and sessions as columns, how sessions are numbered, and
the small time and popularity helpers every stage reads.

A journey's sessions are numbered in time order: 0..11 planned (research first, the purchase last),
12..23 a second screen during the store visit of step - 12, 24..61 follow-ups (call-backs, pick-ups,
returns...), 62 and 63 the campaign message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model.inputs import Model
from parcours.vocabulary import Channel

MAX_PLANNED_STEPS = 12  # planned sessions per intent (research and purchase): steps 0..11
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


def session_key(journey: np.ndarray | int, step: np.ndarray | int) -> np.ndarray:
    return (np.asarray(journey, np.int64) << STEP_BITS) | np.asarray(step, dtype=np.int64)


@dataclass
class PlannedJourneys:
    """One row per journey of the shard, sorted by id (outcomes are filled in as the day runs)."""

    id: np.ndarray  # int64
    customer: np.ndarray  # row into Customers
    buys: np.ndarray  # bool: the intent ends in a purchase if nothing stops it
    service: np.ndarray  # bool: a service contact rather than a purchase intent
    product: np.ndarray  # int64 focal product (-1 for a journey without a planned session: never read)
    campaign: np.ndarray  # int32 campaign answered, -1 for none
    responded: np.ndarray  # bool: an intent at all (a campaign journey without a click is not)

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class PlannedSessions:
    """One row per planned session, sorted by start time."""

    journey: np.ndarray  # row into Journeys
    step: np.ndarray  # int64 index within the journey
    start_s: np.ndarray  # float64 seconds since the run's t0
    channel: np.ndarray  # int8 channel code
    buy: np.ndarray  # bool: the purchase step of a buying journey
    prev_channel: np.ndarray  # int8 channel of the journey's previous session, -1 for the first

    def __len__(self) -> int:
        return len(self.journey)

    def take(self, index: np.ndarray | slice) -> PlannedSessions:
        return PlannedSessions(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[PlannedSessions]) -> PlannedSessions:
        return PlannedSessions(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(PlannedSessions))
        )


def local_hour(model: Model, start_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day index and local hour of times given in seconds since t0."""
    edges = model.hour_starts.ravel() - model.t0
    idx = np.asarray(np.searchsorted(edges, start_s, side="right"))
    idx -= 1
    np.maximum(idx, 0, out=idx)  # (np.clip's wrapper costs as much again on a month's rows)
    np.minimum(idx, len(edges) - 1, out=idx)
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


def product_of(products: int, u: np.ndarray) -> np.ndarray:
    """Product ids by popularity: P(id < k) = (k / products) ** (1/3)."""
    scaled = u**3
    scaled *= products  # (products * u**3, without a second temporary)
    ids = scaled.astype(np.int64)
    return np.minimum(ids, products - 1, out=ids)


def popularity(products: int) -> np.ndarray:
    """Each product's share of demand under ``product_of``."""
    edges = (np.arange(products + 1) / products) ** (1.0 / 3.0)
    return np.diff(edges)
