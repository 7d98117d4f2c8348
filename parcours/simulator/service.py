"""The contended part of the day, as SimPy processes: calls and chats waiting for agents, store
customers waiting for staff. Only what is happening now is a process; everything else is columns.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE, OUTCOME_CODE
from parcours.simulator.buffer import EventBuffer
from parcours.simulator.expand import Context, basket_of
from parcours.simulator.identity import identity_code, identity_number
from parcours.simulator.model import agents_for, open_hours
from parcours.simulator.plan import MAX_PLANNED_STEPS, Sessions, local_hour, session_key
from parcours.simulator.rng import Purpose
from parcours.vocabulary import Channel, EventType, Outcome

MAX_CALLBACKS = 3
CALLBACK_GAP_S = 1800.0  # mean time before an abandoned caller tries again
PHONE = CHANNEL_CODE[Channel.PHONE]
CHAT = CHANNEL_CODE[Channel.CHAT]
STORE = CHANNEL_CODE[Channel.STORE]
E = EVENT_CODE


@dataclass
class Visit:
    """One contended session: who, where in their journey, and what they will do if served."""

    jrow: int
    step: int
    channel: int
    arrival_s: float
    id_code: int
    id_number: int
    buys: bool
    patience_s: float
    service_s: float
    callback_u: float  # below the persona's callback rate: calls back after abandoning
    callback_gap_s: float
    amount: int
    quantity: int
    product: int


@dataclass
class Desk:
    """Who answers on a channel: agents or staff, the events they produce, whether buying is possible."""

    resource: simpy.Resource
    answered: int
    abandoned: int
    end: int | None
    can_buy: bool
    waits: list[float] = field(default_factory=list)
    served: int = 0
    gave_up: int = 0
    peak_busy: int = 0


class World:
    """The shard's SimPy environment, its desks, its event buffer and the journeys' running outcomes."""

    def __init__(
        self, ctx: Context, env: simpy.Environment, buffer: EventBuffer, customers_total: int
    ) -> None:
        self.ctx, self.env, self.buffer = ctx, env, buffer
        sc = ctx.model.scenario
        share = len(ctx.customers) / customers_total
        cc = sc.call_centre
        self.phone = Desk(
            simpy.Resource(
                env, max(1, round(agents_for(cc.agents_per_10k_customers, customers_total) * share))
            ),
            E[EventType.CALL_ANSWERED],
            E[EventType.CALL_ABANDONED],
            E[EventType.CALL_END],
            can_buy=True,
        )
        self.chat = Desk(
            simpy.Resource(
                env, max(1, round(agents_for(cc.chat_agents_per_10k_customers, customers_total) * share))
            ),
            E[EventType.CHAT_ANSWERED],
            E[EventType.CHAT_ABANDONED],
            E[EventType.CHAT_END],
            can_buy=False,
        )
        self.staff: dict[int, Desk] = {}
        self.call_centre_open = open_hours(cc)
        n = len(ctx.journeys)
        self.outcome = np.where(
            ctx.journeys.service, OUTCOME_CODE[Outcome.SERVICE], OUTCOME_CODE[Outcome.ABANDONED]
        )
        self.outcome = self.outcome.astype(np.int8)
        self.revenue = np.zeros(n, dtype=np.int64)
        self.extra_sessions: list[tuple[int, int, float, int]] = []  # jrow, step, start_s, channel

    def call_back(self, v: Visit, step: int, at_s: float) -> None:
        one = Sessions(
            np.array([v.jrow]),
            np.array([step]),
            np.array([at_s]),
            np.array([v.channel], np.int8),
            np.array([v.buys]),
        )
        start_visits(self, one, one.start_s)

    def desk(self, channel: int, store: int) -> Desk:
        if channel == PHONE:
            return self.phone
        if channel == CHAT:
            return self.chat
        if store not in self.staff:
            self.staff[store] = Desk(
                simpy.Resource(self.env, self.ctx.model.scenario.stores.staff_per_store),
                E[EventType.STAFF_ASSIST],
                E[EventType.STORE_EXIT],
                E[EventType.STORE_EXIT],
                can_buy=True,
            )
        return self.staff[store]

    def ts_ms(self) -> int:
        return math.floor((self.ctx.model.t0 + self.env.now) * 1000.0)

    def emit(self, v: Visit, event_type: int, **extra: Any) -> None:
        j = self.ctx.journeys
        crow = int(j.customer[v.jrow])
        c = self.ctx.customers
        self.buffer.add_one(
            ts_ms=self.ts_ms(),
            customer=int(c.ids[crow]),
            persona=int(c.persona[crow]),
            channel=v.channel,
            event_type=event_type,
            session=int(session_key(j.id[v.jrow], v.step)),
            journey=int(j.id[v.jrow]),
            store=int(c.store[crow]) if v.channel == STORE else -1,
            id_code=v.id_code,
            id_number=v.id_number,
            **extra,
        )

    def buy(self, v: Visit) -> None:
        basket = {"product": v.product, "quantity": v.quantity}
        self.emit(v, E[EventType.CHECKOUT], **basket)
        self.emit(v, E[EventType.PURCHASE], amount=v.amount, **basket)
        self.outcome[v.jrow] = OUTCOME_CODE[Outcome.BOUGHT]
        self.revenue[v.jrow] += v.amount


def serve(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """A customer at a desk: queue, then served or gone when patience runs out; callers may call back."""
    env = world.env
    if v.arrival_s > env.now:
        yield env.timeout(v.arrival_s - env.now)
    store = int(world.ctx.customers.store[world.ctx.journeys.customer[v.jrow]])
    desk = world.desk(v.channel, store)
    if v.channel in (PHONE, CHAT):
        world.emit(v, E[EventType.CALL_QUEUED] if v.channel == PHONE else E[EventType.CHAT_QUEUED])
    with desk.resource.request() as request:
        outcome = yield request | env.timeout(v.patience_s)
        waited = env.now - v.arrival_s
        desk.waits.append(waited)
        if request not in outcome:
            desk.gave_up += 1
            world.emit(v, desk.abandoned, wait_s=waited)
            _maybe_call_back(world, v)
            return
        desk.served += 1
        desk.peak_busy = max(desk.peak_busy, desk.resource.count)
        world.emit(v, desk.answered, wait_s=waited)
        yield env.timeout(v.service_s)
    if v.buys and desk.can_buy:
        world.buy(v)
    if desk.end is not None:
        world.emit(v, desk.end)


def _maybe_call_back(world: World, v: Visit) -> None:
    """An abandoned caller may try again later, while the call centre is still open."""
    if v.channel not in (PHONE, CHAT) or v.step >= MAX_PLANNED_STEPS + MAX_CALLBACKS - 1:
        return
    persona = world.ctx.customers.persona[world.ctx.journeys.customer[v.jrow]]
    if v.callback_u >= world.ctx.model.tables["callback_rate"][persona]:
        return
    again = world.env.now + v.callback_gap_s
    _, hour = local_hour(world.ctx.model, np.array([again]))
    if again >= world.ctx.model.horizon_s or not world.call_centre_open[int(hour[0])]:
        return
    step = max(v.step + 1, MAX_PLANNED_STEPS)
    world.extra_sessions.append((v.jrow, step, again, v.channel))
    world.call_back(v, step, again)


def visits(world: World, s: Sessions, arrival_s: np.ndarray) -> list[Visit]:
    """The contended sessions as Visits, with every draw made in bulk."""
    ctx = world.ctx
    t = ctx.model.tables
    jid = ctx.journeys.id[s.journey]
    crow = ctx.journeys.customer[s.journey]
    persona = ctx.customers.persona[crow]
    channel = s.channel.astype(np.int64)
    code = identity_code(
        ctx.model.scenario.integration, channel, np.zeros(len(s), bool), ctx.customers.account[crow]
    )
    number = identity_number(ctx.streams, ctx.customers.ids[crow], code)
    cc, stores = ctx.model.scenario.call_centre, ctx.model.scenario.stores
    service_mean = np.select(
        [channel == PHONE, channel == CHAT], [cc.mean_talk_s, cc.mean_chat_s], stores.mean_assist_s
    )
    patience = ctx.streams.exponential(t["patience_s"][persona], Purpose.PATIENCE, jid, s.step)
    service = ctx.streams.exponential(service_mean, Purpose.TALK, jid, s.step)
    callback_u = ctx.streams.uniform(Purpose.CALLBACK, jid, s.step)
    gap = ctx.streams.exponential(CALLBACK_GAP_S, Purpose.CALLBACK, jid, s.step, 1)
    quantity, amount = basket_of(ctx, jid)
    rows = zip(
        s.journey.tolist(),
        s.step.tolist(),
        channel.tolist(),
        np.asarray(arrival_s).tolist(),
        code.tolist(),
        number.tolist(),
        s.buy.tolist(),
        patience.tolist(),
        service.tolist(),
        callback_u.tolist(),
        gap.tolist(),
        amount.tolist(),
        quantity.tolist(),
        ctx.journeys.product[s.journey].tolist(),
        strict=True,
    )
    return [Visit(*row) for row in rows]


def start_visits(world: World, s: Sessions, arrival_s: np.ndarray) -> None:
    for v in visits(world, s, arrival_s):
        world.env.process(serve(world, v))
