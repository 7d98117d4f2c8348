"""One shard's day(s): plan in bulk, then let SimPy's clock walk through time in slices.

At each slice the sessions starting in it are dispatched: self-service ones become events at once, in
bulk; contended ones (calls, chats, store visits that need staff) become SimPy processes. Behind the
clock, finished events are released in time order to the Parquet writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, OUTCOME_CODE
from parcours.simulator.model.buffer import Columns
from parcours.simulator.model.channels import CAN_BUY, DWELL_S, OWN_SITE
from parcours.simulator.model.rng import Purpose
from parcours.simulator.plan.expand import basket_of, build, layout
from parcours.simulator.plan.sessions import COMPANION_STEP, PlannedSessions, local_hour, session_key
from parcours.simulator.world.aftersale import schedule_returns
from parcours.simulator.world.contention import click_and_collect, start_visits, visits
from parcours.simulator.world.state import PICKUP_DELAY_S, World
from parcours.simulator.world.steps import start
from parcours.vocabulary import Channel, Outcome

# The clock's step: each hour of simulated time, the sessions starting in it are dispatched at once. Each
# slice costs a few dozen NumPy calls whatever its size, which at ten-minute slices was a third of a
# month's CPU; an hour changes only what a stock check sees (the shelf at the hour's start rather than
# at most ten minutes before going): 0.01% of a month's events (docs/model.md).
SLICE_S = 3600.0
KIOSK_USE_RATE = 0.15  # store visitors who use the kiosk, where there is one
PHONE = CHANNEL_CODE[Channel.PHONE]
CHAT = CHANNEL_CODE[Channel.CHAT]
STORE = CHANNEL_CODE[Channel.STORE]

Release = Callable[[dict[str, np.ndarray]], None]
Tick = Callable[[float, int], None]


@dataclass
class ShardDay:
    """The running shard: its world, the plan, and where released events go."""

    world: World
    sessions: PlannedSessions
    messages: Columns
    release: Release
    tick: Tick
    emitted: int = 0

    def flush(self, before_ms: float) -> None:
        out = self.world.buffer.release(before_ms)
        if out is not None:
            self.emitted += len(out["ts_ms"])
            self.release(out)

    def clock(self) -> Generator[simpy.Event, Any, None]:
        """Each slice: restock overnight, release what lies before the clock, send the slice's messages,
        start the slice's sessions."""
        world, s, m = self.world, self.sessions, self.messages
        model = world.ctx.model
        i = m_i = 0
        t = 0.0
        while t < model.horizon_s:
            end = t + SLICE_S
            world.stock.restock(int(local_hour(model, np.array([t]))[0][0]))
            # The last slice's desk purchases: their returns come at least MIN_DELAY_S after them, some
            # before the clock. Then what lies before the clock is final, but for the sessions decided
            # for later (online after an empty shelf) that start before it: released up to the first.
            world.sold.flush(world)
            if t > 0:
                self.flush((model.t0 + min(t, world.pending.earliest_s())) * 1000.0)
            # an integer bound: a float one would convert every message's timestamp at each slice
            m_j = int(np.searchsorted(m["ts_ms"], math.ceil((model.t0 + end) * 1000.0), side="left"))
            world.buffer.add({name: col[m_i:m_j] for name, col in m.items()})
            j = int(np.searchsorted(s.start_s, end, side="left"))
            batch = [s.take(slice(i, j))]
            later = world.pending.due(end)
            if later is not None:
                batch.append(later)
            dispatch(world, batch[0] if len(batch) == 1 else PlannedSessions.concat(batch))
            i, m_i = j, m_j
            yield world.env.timeout(SLICE_S)
            t = world.env.now
            self.tick(t, self.emitted)


def dispatch(world: World, s: PlannedSessions) -> None:
    """Self-service sessions to events now; contended ones (desks, store purchases) to processes.

    The slice's three kinds of built sessions (self-service, the browsing part of store visits, second
    screens in the store) are laid out and built in one pass, then handled in that order: a session's
    events depend on its own row only, so one pass gives each the events three would."""
    ctx = world.ctx
    s = _look_before_going(world, s)
    jid = ctx.journeys.id[s.journey]
    store = s.channel == STORE
    assisted = store & (
        ctx.streams.uniform(Purpose.ASSIST, jid, s.step) < ctx.model.scenario.stores.assist_rate
    )
    in_store_process = store & (assisted | s.buy)
    desk = (s.channel == PHONE) | (s.channel == CHAT)
    own = s.take(np.flatnonzero(~desk & ~in_store_process))
    visit = s.take(np.flatnonzero(in_store_process))
    second = _second_screens(world, s.take(np.flatnonzero(store)))
    built = PlannedSessions.concat([own, visit, second])
    if len(built) == 0:  # a quiet slice (a night): only calls, if any
        desks = s.take(np.flatnonzero(desk))
        start_visits(world, desks, desks.start_s)
        return
    lay = layout(ctx, built)
    in_visit = slice(len(own), len(own) + len(visit))
    lay.buy[in_visit] = 0  # a visit's purchase, and its leaving, happen in its process
    lay.cart[in_visit] = 0
    lay.end[in_visit] = 0
    cols, last_s = build(ctx, built, lay)
    (own_cols, own_last), (visit_cols, visit_last), (second_cols, second_last) = _parts(
        cols, last_s, lay.total, (len(own), len(visit), len(second))
    )
    _self_service(world, own, own_cols, own_last)
    world.buffer.add(visit_cols)
    start_visits(world, visit, visit_last + DWELL_S[STORE], assisted[in_store_process])
    desks = s.take(np.flatnonzero(desk))
    start_visits(world, desks, desks.start_s)
    _self_service(world, second, second_cols, second_last)


def _parts(
    cols: Columns, last_s: np.ndarray, events: np.ndarray, rows: tuple[int, ...]
) -> list[tuple[Columns, np.ndarray]]:
    """The built events and last times split back into the consecutive groups of ``rows`` sessions."""
    row_ends = np.cumsum(rows)
    event_ends = np.concatenate([[0], np.cumsum(events)])[row_ends]
    out = []
    row0 = event0 = 0
    for row1, event1 in zip(row_ends.tolist(), event_ends.tolist(), strict=True):
        out.append(({name: col[event0:event1] for name, col in cols.items()}, last_s[row0:row1]))
        row0, event0 = row1, event1
    return out


def _look_before_going(world: World, s: PlannedSessions) -> PlannedSessions:
    """Where stock is visible online, some customers who researched online check the store has the
    product before going (``stock_check_rate``); if it does not, they buy online instead (live stock in
    omnichannel, this morning's in cross-channel, nothing in silos)."""
    shown = world.capabilities.stock_visible
    if shown == "none":
        return s
    ctx = world.ctx
    researched = (s.channel == STORE) & s.buy & (s.prev_channel >= 0) & CAN_BUY[np.maximum(s.prev_channel, 0)]
    researched &= s.prev_channel != STORE
    rate = ctx.model.tables["stock_check_rate"][ctx.customers.persona[ctx.journeys.customer[s.journey]]]
    researched &= ctx.streams.uniform(Purpose.STOCK, ctx.journeys.id[s.journey], s.step, 7) < rate
    if not researched.any():
        return s
    rows = np.flatnonzero(researched)
    crow = ctx.journeys.customer[s.journey[rows]]
    quantity, _ = basket_of(ctx, s.journey[rows])
    there = world.stock.has(
        ctx.customers.store[crow],
        ctx.journeys.product[s.journey[rows]],
        quantity,
        live=shown == "live",
    )
    channel = s.channel.copy()
    channel[rows[~there]] = s.prev_channel[rows[~there]]
    return PlannedSessions(s.journey, s.step, s.start_s, channel, s.buy, s.prev_channel)


def _self_service(world: World, s: PlannedSessions, cols: Columns, last_s: np.ndarray) -> None:
    """Self-service sessions' built events to the buffer, but for those the day's end or an outage
    stops; purchases among them to the journeys, returns and click & collect."""
    overflow = last_s >= world.ctx.model.horizon_s
    # The days end: a session that would run past the end does not happen; nor does one that runs
    # into a channel's outage (the customer meets an error page and leaves).
    doomed = session_key(world.ctx.journeys.id[s.journey[overflow]], s.step[overflow])
    doomed = np.concatenate([doomed, _outage_hits(world, cols)])
    if len(doomed):
        keep = ~np.isin(cols["session"], doomed)
        cols = {name: col[keep] for name, col in cols.items()}
    world.buffer.add(cols)
    bought = np.flatnonzero(cols["amount"] >= 0)
    if len(bought) == 0:
        return
    rows = cols["jrow"][bought]
    world.outcome[rows] = OUTCOME_CODE[Outcome.BOUGHT]
    np.add.at(world.revenue, rows, cols["amount"][bought])
    _after_online_purchase(world, rows, cols, bought)


def _outage_hits(world: World, cols: Columns) -> np.ndarray:
    """Sessions with an event on a channel while it is down."""
    hits = []
    for channel, begins_ms, ends_ms in world.outage_windows:
        hit = (cols["channel"] == channel) & (cols["ts_ms"] >= begins_ms) & (cols["ts_ms"] < ends_ms)
        hits.append(np.unique(cols["session"][hit]))
    return np.concatenate(hits) if hits else np.zeros(0, np.int64)


def _after_online_purchase(world: World, rows: np.ndarray, cols: Columns, bought: np.ndarray) -> None:
    """Linked channels offer click & collect; every purchase may come back as a return."""
    ctx = world.ctx
    at_s = cols["ts_ms"][bought] / 1000.0 - ctx.model.t0
    channel, product = cols["channel"][bought], cols["product"][bought]
    quantity, amount = cols["quantity"][bought], cols["amount"][bought]
    schedule_returns(world, rows, channel, at_s, amount, product, quantity)
    if not world.capabilities.click_collect or not ctx.model.has_stores:
        return
    jid = ctx.journeys.id[rows]
    rate = ctx.model.tables["click_collect_rate"][ctx.customers.persona[ctx.journeys.customer[rows]]]
    # only the retailer's own site offers its stores for collection (a marketplace is a third party)
    collect = np.flatnonzero((ctx.streams.uniform(Purpose.JOURNEY_PATH, jid, 1) < rate) & OWN_SITE[channel])
    if len(collect) == 0:
        return
    orders = PlannedSessions(
        rows[collect],
        np.zeros(len(collect), np.int64),
        at_s[collect],
        channel[collect].astype(np.int8),
        np.ones(len(collect), bool),
        channel[collect].astype(np.int8),
    )
    pickup_delay = ctx.streams.exponential(PICKUP_DELAY_S, Purpose.RETURNS, jid[collect], 9)
    for v, delay in zip(visits(world, orders, at_s[collect]), pickup_delay.tolist(), strict=True):
        start(world.env, click_and_collect(world, v, delay))


def _second_screens(world: World, visits_: PlannedSessions) -> PlannedSessions:
    """In the store, some check the kiosk (where there is one) or their phone: two channels at once."""
    if len(visits_) == 0:
        return visits_
    ctx = world.ctx
    jid = ctx.journeys.id[visits_.journey]
    crow = ctx.journeys.customer[visits_.journey]
    u = ctx.streams.uniform(Purpose.MULTITASK, jid, visits_.step)
    kiosk = ctx.model.scenario.stores.kiosks & (u < KIOSK_USE_RATE)
    phone = ~kiosk & (
        ctx.streams.uniform(Purpose.MULTITASK, jid, visits_.step, 1)
        < ctx.model.tables["multitasking"][ctx.customers.persona[crow]]
    )
    chosen = kiosk | phone
    own = np.where(
        ctx.customers.app[crow], CHANNEL_CODE[Channel.MOBILE_APP], CHANNEL_CODE[Channel.MOBILE_WEB]
    )
    channel = np.where(kiosk, CHANNEL_CODE[Channel.KIOSK], own)[chosen]
    rows = np.flatnonzero(chosen)
    return PlannedSessions(
        visits_.journey[rows],
        COMPANION_STEP + visits_.step[rows],
        visits_.start_s[rows] + 60.0,
        channel.astype(np.int8),
        np.zeros(len(rows), bool),
        np.full(len(rows), STORE, np.int8),
    )


def run_day(world: World, sessions: PlannedSessions, messages: Columns, release: Release, tick: Tick) -> int:
    """Run the shard's clock to the end of the horizon; returns the number of events released."""
    day = ShardDay(world, sessions, messages, release, tick)
    world.env.process(day.clock())
    horizon = world.ctx.model.horizon_s
    world.env.run(until=horizon)
    # The last slice's desk purchases: a return 601 s later still falls within an hour-long slice (where
    # a desk is open in the run's last hour), which the next slice would have taken.
    world.sold.flush(world)
    # A desk still busy when the days end (only where it is open until midnight) is cut there.
    day.flush((world.ctx.model.t0 + horizon) * 1000.0)
    tick(world.ctx.model.horizon_s, day.emitted)
    return day.emitted
