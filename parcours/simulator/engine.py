"""One shard's day(s): plan in bulk, then let SimPy's clock walk through time in slices.

At each slice the sessions starting in it are dispatched: self-service ones become events at once, in
bulk; contended ones (calls, chats, store visits that need staff) become SimPy processes. Behind the
clock, finished events are released in time order to the Parquet writer.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, OUTCOME_CODE
from parcours.simulator.channels import DWELL_S
from parcours.simulator.expand import build, layout
from parcours.simulator.plan import Sessions, session_key
from parcours.simulator.rng import Purpose
from parcours.simulator.service import World, start_visits
from parcours.vocabulary import Channel, Outcome

SLICE_S = 600.0
PHONE = CHANNEL_CODE[Channel.PHONE]
CHAT = CHANNEL_CODE[Channel.CHAT]
STORE = CHANNEL_CODE[Channel.STORE]

Release = Callable[[dict[str, np.ndarray]], None]
Tick = Callable[[float, int], None]


@dataclass
class ShardDay:
    """The running shard: its world, the plan, and where released events go."""

    world: World
    sessions: Sessions
    release: Release
    tick: Tick
    emitted: int = 0

    def flush(self, before_ms: float) -> None:
        out = self.world.buffer.release(before_ms)
        if out is not None:
            self.emitted += len(out["ts_ms"])
            self.release(out)

    def clock(self) -> Generator[simpy.Event, Any, None]:
        env, s = self.world.env, self.sessions
        horizon = self.world.ctx.model.horizon_s
        i = 0
        t = 0.0
        while t < horizon:
            j = int(np.searchsorted(s.start_s, t + SLICE_S, side="left"))
            if j > i:
                dispatch(self.world, s.take(np.arange(i, j)))
                i = j
            yield env.timeout(SLICE_S)
            t = env.now
            self.flush((self.world.ctx.model.t0 + t) * 1000.0)
            self.tick(t, self.emitted)


def dispatch(world: World, s: Sessions) -> None:
    """Self-service sessions to events now; contended ones to SimPy processes."""
    ctx = world.ctx
    jid = ctx.journeys.id[s.journey]
    assisted = (s.channel == STORE) & (
        ctx.streams.uniform(Purpose.ASSIST, jid, s.step) < ctx.model.scenario.stores.assist_rate
    )
    desk = (s.channel == PHONE) | (s.channel == CHAT)
    self_service = ~desk & ~assisted
    _self_service(world, s.take(np.flatnonzero(self_service)))
    visit_store = s.take(np.flatnonzero(assisted))
    prefix = layout(ctx, visit_store, ends=False)
    prefix.buy[:] = 0
    prefix.cart[:] = 0
    cols, last_s = build(ctx, visit_store, prefix)
    world.buffer.add(cols)
    arrival = last_s + DWELL_S[STORE]
    start_visits(world, visit_store, arrival)
    desks = s.take(np.flatnonzero(desk))
    start_visits(world, desks, desks.start_s)


def _self_service(world: World, s: Sessions) -> None:
    cols, last_s = build(world.ctx, s, layout(world.ctx, s))
    overflow = last_s >= world.ctx.model.horizon_s
    if overflow.any():  # the days end: a session that would run past the end does not happen
        late = session_key(world.ctx.journeys.id[s.journey[overflow]], s.step[overflow])
        keep = ~np.isin(cols["session"], late)
        cols = {name: col[keep] for name, col in cols.items()}
    world.buffer.add(cols)
    bought = cols["amount"] >= 0
    if bought.any():
        rows = np.searchsorted(world.ctx.journeys.id, cols["journey"][bought])
        world.outcome[rows] = OUTCOME_CODE[Outcome.BOUGHT]
        np.add.at(world.revenue, rows, cols["amount"][bought])


def run_day(world: World, sessions: Sessions, release: Release, tick: Tick) -> int:
    """Run the shard's clock to the end of the horizon; returns the number of events released."""
    day = ShardDay(world, sessions, release, tick)
    world.env.process(day.clock())
    horizon = world.ctx.model.horizon_s
    world.env.run(until=horizon)
    # A desk still busy when the days end (only where it is open until midnight) is cut there.
    day.flush((world.ctx.model.t0 + horizon) * 1000.0)
    tick(world.ctx.model.horizon_s, day.emitted)
    return day.emitted
