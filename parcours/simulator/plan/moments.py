"""The channel each planned session takes at its moment: drawn from the persona's tables at that hour,
moved off a channel that is down, and settled when a store or desk is closed.

Every step reads the same things (``Planning``: the model, the streams, the acting customers and their
journeys) and works on the same session rows (``Rows``, in journey order).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import Purpose, Streams, categorical, cumulative
from parcours.simulator.plan.sessions import (
    BUY_MIX,
    MIX,
    MOBILE_WEB,
    OWN_DEVICE,
    SERVICE_MIX,
    PlannedJourneys,
    local_hour,
    mix_group,
)


@dataclass(frozen=True)
class Planning:
    """What every planning step reads: the model, the shard's streams, its acting customers and journeys."""

    model: Model
    streams: Streams
    customers: Customers
    journeys: PlannedJourneys

    def group(self, jrow: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Row of the channel tables for each session's persona, day type and local hour."""
        return mix_group(self.model, self.customers.persona[self.journeys.customer[jrow]], start)


@dataclass
class Rows:
    """Session rows being planned, grouped by journey: what the steps read and change."""

    jrow: np.ndarray  # row into the journeys
    step: np.ndarray  # index within the journey
    start: np.ndarray  # seconds since t0
    channel: np.ndarray  # channel code, negative while still to draw
    buy: np.ndarray  # the purchase step of a buying journey

    def __len__(self) -> int:
        return len(self.jrow)

    def take(self, index: np.ndarray) -> Rows:
        return Rows(*(getattr(self, f.name)[index] for f in fields(self)))


def draw_channels(p: Planning, r: Rows) -> np.ndarray:
    """The channels still to draw (negative codes), from the persona's tables at that hour."""
    t = p.model.tables
    group = p.group(r.jrow, r.start)
    u = p.streams.uniform(Purpose.CHANNEL, p.journeys.id[r.jrow], r.step)
    out = r.channel.astype(np.int64)
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


def outages(p: Planning, r: Rows) -> np.ndarray:
    """Sessions that fall on a channel while it is down: moved to another channel (``r.channel`` is
    changed in place), or given up (false in the mask returned)."""
    model, channel, start = p.model, r.channel, r.start
    alive = np.ones(len(r), dtype=bool)
    for outage in model.scenario.outages:
        code = CHANNEL_CODE[outage.channel]
        day_start = model.hour_starts[outage.day - 1, 0] - model.t0
        begins = day_start + _minutes(outage.begins) * 60.0
        ends = day_start + _minutes(outage.ends) * 60.0
        hit = (channel == code) & (start >= begins) & (start < ends)
        if not hit.any():
            continue
        rows = np.flatnonzero(hit)
        jid = p.journeys.id[r.jrow[rows]]
        switches = p.streams.uniform(Purpose.OUTAGE, jid, r.step[rows]) < outage.switch_rate
        group = p.group(r.jrow[rows], start[rows])
        weights = np.diff(model.tables["channel_cum"][group], axis=1, prepend=0.0)
        weights[:, code] = 0.0
        other = categorical(
            cumulative(weights), np.arange(len(rows)), p.streams.uniform(Purpose.OUTAGE, jid, r.step[rows], 1)
        )
        channel[rows] = np.where(switches, other, code)
        alive[rows[~switches]] = False
    return alive


def settle_closed(p: Planning, r: Rows) -> tuple[np.ndarray, np.ndarray]:
    """Sessions planned on a store or desk while it is closed. Before it opens that day, the customer
    comes later that day (a time drawn from the day's shape, the journey's later sessions waiting for
    it); once it has closed, or on a closed day (Sunday), a purchase waits for the next opening (a time
    drawn from that day's shape) and any other session goes to another open channel. Returns the new
    start times and channels."""
    model, start, buy = p.model, r.start, r.buy
    moved = start.copy()
    channel = r.channel.copy()
    for code, opening in model.opening.items():
        rows = np.flatnonzero(channel == code)  # (the channel's own rows looked up, not every row)
        rows = rows[~opening.is_open(start[rows])]
        if len(rows) == 0:
            continue
        jid = p.journeys.id[r.jrow[rows]]
        later = opening.move(start[rows], p.streams.uniform(Purpose.JOURNEY_MINUTE, jid, r.step[rows], 1))
        day, _ = local_hour(model, start[rows])
        today = local_hour(model, np.where(np.isfinite(later), later, start[rows]))[0] == day
        # a purchase waits for the store to open (Gruen, Corsten & Bharadwaj 2002: shoppers who cannot
        # buy delay or go elsewhere far more than they switch channel); a look goes elsewhere at once
        wait = today | buy[rows]
        moved[rows[wait]] = later[wait]
        other = rows[~wait]
        if len(other):
            channel[other] = _open_instead(p, r.take(other))
    if (moved != start).any():
        moved = start + _running_max_within(moved - start, r.jrow)
        # a session pushed later by an earlier one may now fall after closing: a purchase waits for
        # the next opening, any other session goes to another channel
        for code, opening in model.opening.items():
            rows = np.flatnonzero(channel == code)
            at = moved[rows]
            rows = rows[~opening.is_open(at) & (at < model.horizon_s)]
            waits = rows[buy[rows]]
            if len(waits):
                u = p.streams.uniform(Purpose.JOURNEY_MINUTE, p.journeys.id[r.jrow[waits]], r.step[waits], 2)
                moved[waits] = opening.move(moved[waits], u)
            rows = rows[~buy[rows]]
            if len(rows):
                later_rows = r.take(rows)
                later_rows.start = moved[rows]
                channel[rows] = _open_instead(p, later_rows)
    return moved, channel


def _running_max_within(delta: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running maximum of non-negative ``delta`` that restarts where ``group`` changes (rows grouped)."""
    new_group = np.r_[True, group[1:] != group[:-1]]
    offset = np.cumsum(new_group) * 1e7  # far above any delay within a day
    return np.maximum.accumulate(delta + offset) - offset


def _open_instead(p: Planning, r: Rows) -> np.ndarray:
    """The channel the customer would have drawn among those open at that moment."""
    t = p.model.tables
    group = p.group(r.jrow, r.start)
    table = np.where(r.buy[:, None], t["buy_cum"][group], t["channel_cum"][group])
    table = np.where(p.journeys.service[r.jrow][:, None], t["service_cum"][group], table)
    weights = np.diff(table, axis=1, prepend=0.0)
    for code, opening in p.model.opening.items():
        weights[~opening.is_open(r.start), code] = 0.0
    weights[weights.sum(axis=1) == 0, MOBILE_WEB] = 1.0
    u = p.streams.uniform(Purpose.CHANNEL, p.journeys.id[r.jrow], r.step)
    return categorical(cumulative(weights), np.arange(len(r)), u)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
