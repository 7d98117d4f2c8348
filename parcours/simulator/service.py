"""The contended part of the day, as SimPy processes: callers waiting for agents, store customers
waiting for staff at a shelf that may be empty, click & collect orders waiting for staff to prepare
them. Only what contends is a process; everything else is columns, and what follows a contended step
without contending (a pick-up, a kiosk order) is written ahead with the times it will happen.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE, OUTCOME_CODE
from parcours.simulator.aftersale import schedule_returns
from parcours.simulator.buffer import EventBuffer
from parcours.simulator.expand import Context, basket_of
from parcours.simulator.identity import ACCOUNT, SILO, identity_code, identity_number, identity_number_one
from parcours.simulator.model import agents_for
from parcours.simulator.plan import FIRST_FOLLOW_UP, LAST_FOLLOW_UP, STEP_BITS, Sessions
from parcours.simulator.rng import Purpose
from parcours.simulator.stock import Stock
from parcours.vocabulary import Channel, EventType, IntegrationLevel, Outcome

E = EVENT_CODE
C = CHANNEL_CODE
PHONE, CHAT, STORE, KIOSK = C[Channel.PHONE], C[Channel.CHAT], C[Channel.STORE], C[Channel.KIOSK]
KNOWN_OFFLINE = (STORE, PHONE, CHAT, KIOSK)  # a card or a known number identifies the customer here
MAX_CALLBACKS = 3
CALLBACK_GAP_S = 1800.0  # mean time before an abandoned caller tries again
ONLINE_LATER_S = 7200.0  # mean time before a customer who met an empty shelf looks online
PICKUP_DELAY_S = 3 * 3600.0  # mean time between "your order is ready" and the pick-up
STEP_GAP_S = 30.0  # between two steps at a desk or a kiosk
SLICE_AHEAD_S = 601.0  # more than the clock's slice: sessions decided now start after it
# Pre-drawn uniforms of a Visit, by use.
U_ORDER, U_HOLD, U_ONLINE, U_FRICTION, U_CALLBACK = range(5)
N_DRAWS = 5


@dataclass
class Visit:
    """One contended session: who, where in their journey, and what they will do if served."""

    jrow: int
    step: int
    channel: int
    arrival_s: float
    customer: int
    persona: int
    journey_id: int
    store: int
    account: bool
    id_code: int
    id_number: int
    buys: bool
    patience_s: float
    service_s: float
    amount: int
    quantity: int
    product: int
    u: tuple[float, ...]  # uniforms for the visit's decisions, U_* order
    delay_s: float  # an exponential(1) draw, scaled where a delay is needed
    assisted: bool = False

    @property
    def session(self) -> int:
        return (self.journey_id << STEP_BITS) | self.step


@dataclass
class Desk:
    """Who answers on a channel: agents or staff, and the events they produce."""

    resource: simpy.Resource
    answered: int
    abandoned: int
    end: int | None
    can_buy: bool
    served: int = 0
    gave_up: int = 0


@dataclass
class Sold:
    """Purchases made at desks, collected for the returns that may follow."""

    rows: list[tuple[int, int, float, int, int, int]] = field(default_factory=list)

    def flush(self, world: World) -> None:
        if self.rows:
            cols = [np.array(c) for c in zip(*self.rows, strict=True)]
            self.rows = []
            schedule_returns(world, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])


@dataclass
class Pending:
    """Sessions decided during the day for later (a customer going online after a stock-out)."""

    rows: list[tuple[int, int, float, int, bool, int]] = field(default_factory=list)

    def due(self, until_s: float) -> Sessions | None:
        ready = [r for r in self.rows if r[2] < until_s]
        if not ready:
            return None
        self.rows = [r for r in self.rows if r[2] >= until_s]
        cols = list(zip(*ready, strict=True))
        return Sessions(
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.float64),
            np.array(cols[3], np.int8),
            np.array(cols[4], bool),
            np.array(cols[5], np.int8),
        )


class Hours:
    """Opening hours over the run, for scalar questions asked by processes (bisect, no NumPy)."""

    def __init__(self, edges: list[float], open_hours: np.ndarray) -> None:
        self.edges = edges
        flat = np.tile(open_hours, len(edges) // 24 + 1)[: len(edges)].tolist()
        self.open = flat
        nxt: list[float | None] = [None] * (len(edges) + 1)
        for i in range(len(edges) - 1, -1, -1):
            nxt[i] = edges[i] if flat[i] else nxt[i + 1]
        self.next = nxt

    def next_opening(self, at_s: float) -> float | None:
        """The first moment at or after ``at_s`` when open, within the run."""
        i = max(0, bisect.bisect_right(self.edges, at_s) - 1)
        if self.open[i]:
            return at_s
        return self.next[i + 1]


class World:
    """The shard's SimPy environment, desks, stock, event buffer and the journeys' running outcomes."""

    def __init__(
        self, ctx: Context, env: simpy.Environment, buffer: EventBuffer, customers_total: int
    ) -> None:
        self.ctx, self.env, self.buffer = ctx, env, buffer
        model, sc = ctx.model, ctx.model.scenario
        self.level = sc.integration
        self.t0_ms = model.t0 * 1000.0
        share = len(ctx.customers) / customers_total

        def agents(per_10k: float) -> simpy.Resource:
            return simpy.Resource(env, max(1, round(agents_for(per_10k, customers_total) * share)))

        cc = sc.call_centre
        self.phone = Desk(
            agents(cc.agents_per_10k_customers),
            E[EventType.CALL_ANSWERED],
            E[EventType.CALL_ABANDONED],
            E[EventType.CALL_END],
            can_buy=True,
        )
        self.chat = Desk(
            agents(cc.chat_agents_per_10k_customers),
            E[EventType.CHAT_ANSWERED],
            E[EventType.CHAT_ABANDONED],
            E[EventType.CHAT_END],
            can_buy=False,
        )
        self.staff: dict[int, Desk] = {}
        edges = (model.hour_starts[:-1].ravel() - model.t0).tolist()
        self.store_hours = Hours(edges, model.opening[STORE])
        self.call_hours = Hours(edges, model.opening[PHONE])
        self.stock = Stock(model, ctx.streams, np.unique(ctx.customers.store))
        j = ctx.journeys
        outcome = np.where(j.service, OUTCOME_CODE[Outcome.SERVICE], OUTCOME_CODE[Outcome.ABANDONED])
        self.outcome = np.where(j.responded, outcome, OUTCOME_CODE[Outcome.NO_RESPONSE]).astype(np.int8)
        self.revenue = np.zeros(len(j), dtype=np.int64)
        self.next_step = np.full(len(j), FIRST_FOLLOW_UP, dtype=np.int16)
        self.pending = Pending()
        self.sold = Sold()
        self.outage_windows = [
            (
                C[o.channel],
                *(
                    1000.0 * (model.hour_starts[o.day - 1, 0] + 60.0 * _minutes(t))
                    for t in (o.begins, o.ends)
                ),
            )
            for o in sc.outages
        ]
        self.persona_rates = {
            name: model.tables[name].tolist()
            for name in (
                "callback_rate",
                "stockout_order_rate",
                "stockout_online_rate",
                "click_collect_rate",
                "switch_friction",
            )
        }

    def desk(self, channel: int, store: int) -> Desk:
        if channel == PHONE:
            return self.phone
        if channel == CHAT:
            return self.chat
        if store not in self.staff:
            self.staff[store] = Desk(
                simpy.Resource(self.env, self.ctx.model.scenario.stores.staff_per_store),
                E[EventType.STAFF_ASSIST],
                E[EventType.ASSIST_ABANDONED],
                None,
                can_buy=True,
            )
        return self.staff[store]

    def rate(self, name: str, v: Visit) -> float:
        return float(self.persona_rates[name][v.persona])

    def follow_up_step(self, jrow: int) -> int | None:
        step = int(self.next_step[jrow])
        if step > LAST_FOLLOW_UP:
            return None
        self.next_step[jrow] = step + 1
        return step

    def linked(self) -> bool:
        return self.level is not IntegrationLevel.MULTICHANNEL

    def session(self, v: Visit, channel: int, step: int, logged_in: bool = False) -> Visit:
        """The same customer and journey, in another session on another channel."""
        known = logged_in or (v.account and channel in KNOWN_OFFLINE)
        if self.level is IntegrationLevel.MULTICHANNEL:
            code = SILO + channel if known else channel
        elif self.level is IntegrationLevel.CROSSCHANNEL:
            code = ACCOUNT if known else channel
        else:
            code = ACCOUNT
        number = identity_number_one(self.ctx.streams, v.customer, code)
        return replace(v, channel=channel, step=step, id_code=code, id_number=number)

    def emit(
        self,
        v: Visit,
        event_type: int,
        *,
        at_s: float | None = None,
        product: int = -1,
        quantity: int = -1,
        amount: int = -1,
        wait_s: float = math.nan,
    ) -> None:
        ts = math.floor(self.t0_ms + (self.env.now if at_s is None else at_s) * 1000.0)
        store = v.store if v.channel in (STORE, KIOSK) else -1
        self.buffer.add_row(
            (
                ts,
                v.customer,
                v.persona,
                v.channel,
                event_type,
                v.session,
                v.journey_id,
                product,
                store,
                -1,
                quantity,
                amount,
                v.id_code,
                v.id_number,
            ),
            wait_s,
        )

    def buy(self, v: Visit, at_s: float | None = None) -> None:
        self.emit(v, E[EventType.CHECKOUT], at_s=at_s, product=v.product, quantity=v.quantity)
        self.emit(
            v, E[EventType.PURCHASE], at_s=at_s, product=v.product, quantity=v.quantity, amount=v.amount
        )
        self.outcome[v.jrow] = OUTCOME_CODE[Outcome.BOUGHT]
        self.revenue[v.jrow] += v.amount
        when = self.env.now if at_s is None else at_s
        self.sold.rows.append((v.jrow, v.channel, when, v.amount, v.product, v.quantity))


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


# -- desks: phone, chat, store staff ----------------------------------------------------------------


def serve(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """A caller or chatter: queue, then served or gone when patience runs out; may call back."""
    env = world.env
    if v.arrival_s > env.now:
        yield env.timeout(v.arrival_s - env.now)
    desk = world.desk(v.channel, -1)
    world.emit(v, E[EventType.CALL_QUEUED] if v.channel == PHONE else E[EventType.CHAT_QUEUED])
    served = yield from wait_for(world, desk, v)
    if not served:
        _maybe_call_back(world, v)
        return
    if v.buys and desk.can_buy:
        world.buy(v)
    if desk.end is not None:
        world.emit(v, desk.end)


def wait_for(world: World, desk: Desk, v: Visit) -> Generator[simpy.Event, Any, bool]:
    """Queue at a desk with the customer's patience; served for ``v.service_s`` or gone."""
    env = world.env
    queued = env.now
    with desk.resource.request() as request:
        outcome = yield request | env.timeout(v.patience_s)
        waited = env.now - queued
        if request not in outcome:
            desk.gave_up += 1
            world.emit(v, desk.abandoned, wait_s=waited)
            return False
        desk.served += 1
        world.emit(v, desk.answered, wait_s=waited)
        yield env.timeout(v.service_s)
    return True


def _maybe_call_back(world: World, v: Visit) -> None:
    """An abandoned caller may try again later, while the call centre is still open."""
    if v.step >= FIRST_FOLLOW_UP + MAX_CALLBACKS - 1 or v.u[U_CALLBACK] >= world.rate("callback_rate", v):
        return
    again = world.env.now + CALLBACK_GAP_S * v.delay_s
    if again >= world.ctx.model.horizon_s or world.call_hours.next_opening(again) != again:
        return
    step = world.follow_up_step(v.jrow)
    if step is not None:
        one = Sessions(
            np.array([v.jrow]),
            np.array([step]),
            np.array([again]),
            np.array([v.channel], np.int8),
            np.array([v.buys]),
            np.array([v.channel], np.int8),
        )
        start_visits(world, one, one.start_s)


def store_visit(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """In the store: maybe ask staff for help, maybe buy (if the shelf has it), then leave."""
    env = world.env
    if v.arrival_s > env.now:
        yield env.timeout(v.arrival_s - env.now)
    if v.assisted:
        helped = yield from wait_for(world, world.desk(STORE, v.store), v)
        if not helped:
            world.emit(v, E[EventType.STORE_EXIT])
            return
    if v.buys:
        yield from store_purchase(world, v)
    world.emit(v, E[EventType.STORE_EXIT])


def store_purchase(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    if world.stock.take(v.store, v.product, v.quantity):
        world.buy(v)
        return
    world.emit(v, E[EventType.STOCK_OUT], product=v.product, quantity=v.quantity, amount=v.amount)
    world.outcome[v.jrow] = OUTCOME_CODE[Outcome.LOST_TO_STOCKOUT]
    if world.linked():
        if v.u[U_ORDER] < world.rate("stockout_order_rate", v):
            ordered = yield from order_from_store(world, v)
            if ordered:
                return
        elif world.level is IntegrationLevel.OMNICHANNEL and v.u[U_HOLD] < world.rate(
            "click_collect_rate", v
        ):
            # One live view of every store's stock: staff hold one from another store for collection.
            world.buy(v)
            return
    if v.u[U_ONLINE] < world.rate("stockout_online_rate", v):
        online_later(world, v)


def order_from_store(world: World, v: Visit) -> Generator[simpy.Event, Any, bool]:
    """Linked channels let the store order for home delivery: at a kiosk if there is one, else staff."""
    if world.ctx.model.scenario.stores.kiosks:
        step = world.follow_up_step(v.jrow)
        if step is None:
            return False
        kiosk_order(world, world.session(v, KIOSK, step, logged_in=True))
        return True
    ordered = yield from wait_for(world, world.desk(STORE, v.store), replace(v, service_s=STEP_GAP_S * 4))
    if ordered:
        world.buy(v)  # ordered at the desk, delivered home
    return ordered


def kiosk_order(world: World, v: Visit) -> None:
    """At the in-store kiosk: check stock elsewhere, order for delivery; no staff needed."""
    now = world.env.now
    world.emit(v, E[EventType.SESSION_START], at_s=now)
    world.emit(v, E[EventType.STOCK_CHECK], at_s=now + STEP_GAP_S, product=v.product)
    world.emit(v, E[EventType.KIOSK_ORDER], at_s=now + 2 * STEP_GAP_S, product=v.product, quantity=v.quantity)
    world.buy(v, at_s=now + 2 * STEP_GAP_S)
    world.emit(v, E[EventType.SESSION_END], at_s=now + 3 * STEP_GAP_S)


def online_later(world: World, v: Visit) -> None:
    """After a stock-out, the customer looks for the product online, later, by themselves."""
    at = world.env.now + max(SLICE_AHEAD_S, ONLINE_LATER_S * v.delay_s)
    step = world.follow_up_step(v.jrow)
    if at >= world.ctx.model.horizon_s - 3600.0 or step is None:
        return
    app = bool(world.ctx.customers.app[world.ctx.journeys.customer[v.jrow]])
    channel = C[Channel.MOBILE_APP] if app else C[Channel.MOBILE_WEB]
    # Unlinked channels: the search starts over, and some give up on the way.
    gives_up = not world.linked() and v.u[U_FRICTION] < world.rate("switch_friction", v)
    world.pending.rows.append((v.jrow, step, float(at), channel, not gives_up, STORE))


def click_and_collect(world: World, v: Visit, pickup_delay_s: float) -> Generator[simpy.Event, Any, None]:
    """Store staff prepare the order; a message says it is ready; the customer comes to pick it up."""
    env = world.env
    opening = world.store_hours.next_opening(max(env.now, v.arrival_s))
    if opening is None:
        return
    if opening > env.now:
        yield env.timeout(opening - env.now)
    with world.desk(STORE, v.store).resource.request() as request:
        yield request
        yield env.timeout(world.ctx.model.scenario.stores.prepare_order_s)
    ready_at = env.now
    if not world.stock.take(v.store, v.product, v.quantity):
        ready_at += 4 * 3600.0  # sent from the warehouse instead
    ready_step, pickup_step = world.follow_up_step(v.jrow), world.follow_up_step(v.jrow)
    if ready_step is None or pickup_step is None or ready_at >= world.ctx.model.horizon_s:
        return
    app = bool(world.ctx.customers.app[world.ctx.journeys.customer[v.jrow]])
    ready = world.session(v, C[Channel.PUSH] if app else C[Channel.SMS], ready_step, logged_in=True)
    world.emit(ready, E[EventType.ORDER_READY], at_s=ready_at, product=v.product, quantity=v.quantity)
    pickup_at = world.store_hours.next_opening(ready_at + pickup_delay_s)
    if pickup_at is None or pickup_at + 6 * STEP_GAP_S >= world.ctx.model.horizon_s:
        return
    pickup = world.session(v, STORE, pickup_step)
    world.emit(pickup, E[EventType.STORE_ENTER], at_s=pickup_at)
    world.emit(
        pickup, E[EventType.PICKUP], at_s=pickup_at + 4 * STEP_GAP_S, product=v.product, quantity=v.quantity
    )
    world.emit(pickup, E[EventType.STORE_EXIT], at_s=pickup_at + 5 * STEP_GAP_S)


# -- contended sessions in bulk ---------------------------------------------------------------------


def visits(
    world: World, s: Sessions, arrival_s: np.ndarray, assisted: np.ndarray | None = None
) -> list[Visit]:
    """The sessions as Visits, with every draw made in bulk."""
    ctx = world.ctx
    t = ctx.model.tables
    jid = ctx.journeys.id[s.journey]
    crow = ctx.journeys.customer[s.journey]
    persona = ctx.customers.persona[crow]
    channel = s.channel.astype(np.int64)
    account = ctx.customers.account[crow]
    code = identity_code(world.level, channel, np.zeros(len(s), bool), account)
    number = identity_number(ctx.streams, ctx.customers.ids[crow], code)
    cc, stores = ctx.model.scenario.call_centre, ctx.model.scenario.stores
    service_mean = np.select(
        [channel == PHONE, channel == CHAT], [cc.mean_talk_s, cc.mean_chat_s], stores.mean_assist_s
    )
    patience = ctx.streams.exponential(t["patience_s"][persona], Purpose.PATIENCE, jid, s.step)
    service = ctx.streams.exponential(service_mean, Purpose.TALK, jid, s.step)
    u = ctx.streams.uniform(Purpose.STOCK, jid[:, None], s.step[:, None], np.arange(N_DRAWS)[None, :])
    delay = ctx.streams.exponential(1.0, Purpose.CALLBACK, jid, s.step)
    quantity, amount = basket_of(ctx, jid)
    helped = np.zeros(len(s), bool) if assisted is None else assisted
    rows = zip(
        s.journey.tolist(),
        s.step.tolist(),
        channel.tolist(),
        np.asarray(arrival_s, np.float64).tolist(),
        ctx.customers.ids[crow].tolist(),
        persona.tolist(),
        jid.tolist(),
        ctx.customers.store[crow].tolist(),
        account.tolist(),
        code.tolist(),
        number.tolist(),
        s.buy.tolist(),
        patience.tolist(),
        service.tolist(),
        amount.tolist(),
        quantity.tolist(),
        ctx.journeys.product[s.journey].tolist(),
        map(tuple, u.tolist()),
        delay.tolist(),
        helped.tolist(),
        strict=True,
    )
    return [Visit(*row) for row in rows]


def start_visits(
    world: World, s: Sessions, arrival_s: np.ndarray, assisted: np.ndarray | None = None
) -> None:
    for v in visits(world, s, arrival_s, assisted):
        process = store_visit if v.channel == STORE else serve
        world.env.process(process(world, v))
