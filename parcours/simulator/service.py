"""The contended part of the day, as SimPy processes: callers waiting for agents, store customers
waiting for staff, shelves running out, click & collect orders being prepared, returns at the desk.
Only what is happening now is a process; everything else is columns.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE, OUTCOME_CODE
from parcours.simulator.buffer import EventBuffer
from parcours.simulator.expand import Context, basket_of
from parcours.simulator.identity import identity_code, identity_number
from parcours.simulator.model import agents_for, open_hours
from parcours.simulator.plan import FIRST_FOLLOW_UP, LAST_FOLLOW_UP, Sessions, local_hour, session_key
from parcours.simulator.rng import Purpose
from parcours.simulator.stock import Stock
from parcours.vocabulary import Channel, EventType, IntegrationLevel, Outcome

E = EVENT_CODE
C = CHANNEL_CODE
PHONE, CHAT, STORE, KIOSK = C[Channel.PHONE], C[Channel.CHAT], C[Channel.STORE], C[Channel.KIOSK]
MAX_CALLBACKS = 3
CALLBACK_GAP_S = 1800.0  # mean time before an abandoned caller tries again
PICKUP_DELAY_S = 3 * 3600.0  # mean time between "your order is ready" and the pick-up
RETURN_DELAY_S = 36 * 3600.0  # mean time between a purchase and its return
EXCHANGE_SHARE = 0.3  # returns in store that end in an exchange rather than a refund
STEP_GAP_S = 30.0  # between two steps at a desk or a kiosk
SLICE_AHEAD_S = 601.0  # more than the clock's slice


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
    callback_u: float  # below the persona's call-back rate: calls back after abandoning
    callback_gap_s: float
    amount: int
    quantity: int
    product: int
    assisted: bool = False


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


class World:
    """The shard's SimPy environment, desks, stock, event buffer and the journeys' running outcomes."""

    def __init__(
        self, ctx: Context, env: simpy.Environment, buffer: EventBuffer, customers_total: int
    ) -> None:
        self.ctx, self.env, self.buffer = ctx, env, buffer
        sc = ctx.model.scenario
        self.level = sc.integration
        share = len(ctx.customers) / customers_total
        cc = sc.call_centre

        def agents(per_10k: float) -> simpy.Resource:
            return simpy.Resource(env, max(1, round(agents_for(per_10k, customers_total) * share)))

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
        self.call_centre_open = open_hours(cc)
        self.store_open = open_hours(sc.stores)
        self.stock = Stock(ctx.model, ctx.streams, np.unique(ctx.customers.store))
        j = ctx.journeys
        outcome = np.where(j.service, OUTCOME_CODE[Outcome.SERVICE], OUTCOME_CODE[Outcome.ABANDONED])
        self.outcome = np.where(j.responded, outcome, OUTCOME_CODE[Outcome.NO_RESPONSE]).astype(np.int8)
        self.revenue = np.zeros(len(j), dtype=np.int64)
        self.next_step = np.full(len(j), FIRST_FOLLOW_UP, dtype=np.int16)
        self.pending = Pending()
        self.outage_windows = [
            (
                C[o.channel],
                *(
                    1000.0 * (ctx.model.hour_starts[o.day - 1, 0] + 60.0 * _minutes(t))
                    for t in (o.begins, o.ends)
                ),
            )
            for o in sc.outages
        ]
        self._ids: dict[tuple[int, int], int] = {}

    # -- who, where, when ------------------------------------------------------------------------

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

    def store_of(self, jrow: int) -> int:
        return int(self.ctx.customers.store[self.ctx.journeys.customer[jrow]])

    def persona_value(self, name: str, jrow: int) -> float:
        return float(
            self.ctx.model.tables[name][self.ctx.customers.persona[self.ctx.journeys.customer[jrow]]]
        )

    def draw(self, purpose: Purpose, jrow: int, *keys: int) -> float:
        return float(self.ctx.streams.uniform(purpose, np.array([self.ctx.journeys.id[jrow]]), *keys)[0])

    def follow_up_step(self, jrow: int) -> int | None:
        step = int(self.next_step[jrow])
        if step > LAST_FOLLOW_UP:
            return None
        self.next_step[jrow] = step + 1
        return step

    def linked(self) -> bool:
        return self.level is not IntegrationLevel.MULTICHANNEL

    def is_open(self, at_s: float, hours: np.ndarray) -> bool:
        _, hour = local_hour(self.ctx.model, np.array([at_s]))
        return bool(hours[int(hour[0])])

    def next_opening(self, at_s: float, hours: np.ndarray) -> float | None:
        """The first moment at or after ``at_s`` when ``hours`` are open, within the run."""
        model = self.ctx.model
        day, hour = local_hour(model, np.array([at_s]))
        for d in range(int(day[0]), model.days):
            for h in range(24):
                begins = model.hour_starts[d, h] - model.t0
                if hours[h] and begins + 3600.0 > at_s:
                    return max(at_s, begins)
        return None

    def identity(self, jrow: int, channel: int, logged_in: bool = False) -> tuple[int, int]:
        c, crow = self.ctx.customers, int(self.ctx.journeys.customer[jrow])
        code = int(
            identity_code(
                self.level, np.array([channel]), np.array([logged_in]), np.array([c.account[crow]])
            )[0]
        )
        key = (crow, code)
        if key not in self._ids:
            self._ids[key] = int(
                identity_number(self.ctx.streams, c.ids[crow : crow + 1], np.array([code]))[0]
            )
        return code, self._ids[key]

    # -- events -----------------------------------------------------------------------------------

    def ts_ms(self) -> int:
        return math.floor((self.ctx.model.t0 + self.env.now) * 1000.0)

    def emit(self, v: Visit, event_type: int, **extra: Any) -> None:
        j, c = self.ctx.journeys, self.ctx.customers
        crow = int(j.customer[v.jrow])
        self.buffer.add_one(
            ts_ms=self.ts_ms(),
            customer=int(c.ids[crow]),
            persona=int(c.persona[crow]),
            channel=v.channel,
            event_type=event_type,
            session=int(session_key(j.id[v.jrow], v.step)),
            journey=int(j.id[v.jrow]),
            store=int(c.store[crow]) if v.channel in (STORE, KIOSK) else -1,
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
        schedule_return(self, v.jrow, v.channel, self.env.now, v.amount, v.product, v.quantity)

    def session(self, v: Visit, channel: int, step: int, logged_in: bool = False) -> Visit:
        code, number = self.identity(v.jrow, channel, logged_in)
        return replace(v, channel=channel, step=step, id_code=code, id_number=number)


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
    if v.step >= FIRST_FOLLOW_UP + MAX_CALLBACKS - 1 or v.callback_u >= world.persona_value(
        "callback_rate", v.jrow
    ):
        return
    again = world.env.now + v.callback_gap_s
    if again >= world.ctx.model.horizon_s or not world.is_open(again, world.call_centre_open):
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
        helped = yield from wait_for(world, world.desk(STORE, world.store_of(v.jrow)), v)
        if not helped:
            world.emit(v, E[EventType.STORE_EXIT])
            return
    if v.buys:
        yield from store_purchase(world, v)
    world.emit(v, E[EventType.STORE_EXIT])


def store_purchase(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    store = world.store_of(v.jrow)
    if world.stock.take(store, v.product, v.quantity):
        world.buy(v)
        return
    world.emit(v, E[EventType.STOCK_OUT], product=v.product)
    world.outcome[v.jrow] = OUTCOME_CODE[Outcome.LOST_TO_STOCKOUT]
    if world.linked():
        if world.draw(Purpose.STOCK, v.jrow, v.step, 0) < world.persona_value("stockout_order_rate", v.jrow):
            ordered = yield from order_from_store(world, v, store)
            if ordered:
                return
        elif world.level is IntegrationLevel.OMNICHANNEL and world.draw(Purpose.STOCK, v.jrow, v.step, 4) < (
            world.persona_value("click_collect_rate", v.jrow)
        ):
            # One live view of every store's stock: staff hold one from another store for collection.
            world.buy(v)
            return
    if world.draw(Purpose.STOCK, v.jrow, v.step, 1) < world.persona_value("stockout_online_rate", v.jrow):
        online_later(world, v)


def order_from_store(world: World, v: Visit, store: int) -> Generator[simpy.Event, Any, bool]:
    """Linked channels let the store order for home delivery: at a kiosk if there is one, else staff."""
    if world.ctx.model.scenario.stores.kiosks:
        step = world.follow_up_step(v.jrow)
        if step is None:
            return False
        yield from kiosk_order(world, world.session(v, KIOSK, step, logged_in=True))
        return True
    ordered = yield from wait_for(world, world.desk(STORE, store), replace(v, service_s=STEP_GAP_S * 4))
    if ordered:
        world.buy(v)  # ordered at the desk, delivered home
    return ordered


def kiosk_order(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """At the in-store kiosk: check stock elsewhere, order for delivery; no staff needed."""
    env = world.env
    world.emit(v, E[EventType.SESSION_START])
    yield env.timeout(STEP_GAP_S)
    world.emit(v, E[EventType.STOCK_CHECK], product=v.product)
    yield env.timeout(STEP_GAP_S)
    world.emit(v, E[EventType.KIOSK_ORDER], product=v.product, quantity=v.quantity)
    world.buy(v)
    world.emit(v, E[EventType.SESSION_END])


def online_later(world: World, v: Visit) -> None:
    """After a stock-out, the customer looks for the product online, later, by themselves."""
    # At least a clock slice ahead: the clock starts sessions at the beginning of their slice.
    at = world.env.now + max(
        SLICE_AHEAD_S,
        world.ctx.streams.exponential(
            7200.0, Purpose.STOCK, np.array([world.ctx.journeys.id[v.jrow]]), v.step, 2
        )[0],
    )
    step = world.follow_up_step(v.jrow)
    if at >= world.ctx.model.horizon_s - 3600.0 or step is None:
        return
    channel = (
        C[Channel.MOBILE_APP]
        if world.ctx.customers.app[world.ctx.journeys.customer[v.jrow]]
        else C[Channel.MOBILE_WEB]
    )
    # Unlinked channels: the search starts over, and some give up on the way.
    gives_up = not world.linked() and world.draw(Purpose.STOCK, v.jrow, v.step, 3) < world.persona_value(
        "switch_friction", v.jrow
    )
    world.pending.rows.append((v.jrow, step, float(at), channel, not gives_up, STORE))


# -- after a purchase: click & collect, returns -----------------------------------------------------


def click_and_collect(
    world: World, jrow: int, at_s: float, channel: int, product: int, quantity: int, amount: int
) -> Generator[simpy.Event, Any, None]:
    """Store staff prepare the order, a message says it is ready, the customer comes to pick it up."""
    env = world.env
    if at_s > env.now:
        yield env.timeout(at_s - env.now)
    store = world.store_of(jrow)
    opening = world.next_opening(env.now, world.store_open)
    if opening is None:
        return
    if opening > env.now:
        yield env.timeout(opening - env.now)
    with world.desk(STORE, store).resource.request() as request:
        yield request
        yield env.timeout(world.ctx.model.scenario.stores.prepare_order_s)
    if not world.stock.take(store, product, quantity):
        yield env.timeout(4 * 3600.0)  # sent from the warehouse instead
    ready_step, pickup_step = world.follow_up_step(jrow), world.follow_up_step(jrow)
    if ready_step is None or pickup_step is None:
        return
    app = bool(world.ctx.customers.app[world.ctx.journeys.customer[jrow]])
    base = Visit(
        jrow, ready_step, channel, env.now, 0, 0, False, 0.0, 0.0, 1.0, 0.0, amount, quantity, product
    )
    ready = world.session(base, C[Channel.PUSH] if app else C[Channel.SMS], ready_step, logged_in=True)
    world.emit(ready, E[EventType.ORDER_READY], product=product, quantity=quantity)
    delay = world.ctx.streams.exponential(
        PICKUP_DELAY_S, Purpose.RETURNS, np.array([world.ctx.journeys.id[jrow]]), 9
    )[0]
    pickup_at = world.next_opening(env.now + delay, world.store_open)
    if pickup_at is None:
        return
    yield env.timeout(pickup_at - env.now)
    pickup = world.session(base, STORE, pickup_step)
    world.emit(pickup, E[EventType.STORE_ENTER])
    yield env.timeout(STEP_GAP_S * 4)
    world.emit(pickup, E[EventType.PICKUP], product=product, quantity=quantity)
    yield env.timeout(STEP_GAP_S)
    world.emit(pickup, E[EventType.STORE_EXIT])


def schedule_return(
    world: World, jrow: int, channel: int, at_s: float, amount: int, product: int, quantity: int
) -> None:
    if world.draw(Purpose.RETURNS, jrow, 0) >= world.persona_value("return_rate", jrow):
        return
    when = (
        at_s
        + world.ctx.streams.exponential(
            RETURN_DELAY_S, Purpose.RETURNS, np.array([world.ctx.journeys.id[jrow]]), 1
        )[0]
    )
    if when < world.ctx.model.horizon_s:
        world.env.process(give_back(world, jrow, channel, float(when), amount, product, quantity))


def give_back(
    world: World, jrow: int, channel: int, at_s: float, amount: int, product: int, quantity: int
) -> Generator[simpy.Event, Any, None]:
    """A return: at the store's desk where channels are linked or it was bought there, else by post."""
    env = world.env
    in_store = world.linked() or channel in (STORE, KIOSK)
    if in_store:
        opening = world.next_opening(at_s, world.store_open)
        if opening is None:
            return
        at_s = opening
    if at_s > env.now:
        yield env.timeout(at_s - env.now)
    step = world.follow_up_step(jrow)
    if step is None:
        return
    base = Visit(jrow, step, channel, env.now, 0, 0, False, 0.0, 0.0, 1.0, 0.0, amount, quantity, product)
    exchange = in_store and world.draw(Purpose.RETURNS, jrow, 2) < EXCHANGE_SHARE
    kind = E[EventType.EXCHANGE] if exchange else E[EventType.RETURN]
    if not exchange:
        world.outcome[jrow] = OUTCOME_CODE[Outcome.RETURNED]
        world.revenue[jrow] -= amount
    if not in_store:
        world.emit(
            world.session(base, channel, step, logged_in=True),
            kind,
            product=product,
            quantity=quantity,
            amount=amount,
        )
        return
    v = world.session(base, STORE, step)
    world.emit(v, E[EventType.STORE_ENTER])
    yield env.timeout(STEP_GAP_S * 4)
    world.emit(v, kind, product=product, quantity=quantity, amount=amount)
    yield env.timeout(STEP_GAP_S)
    world.emit(v, E[EventType.STORE_EXIT])


# -- contended sessions in bulk ---------------------------------------------------------------------


def visits(
    world: World, s: Sessions, arrival_s: np.ndarray, assisted: np.ndarray | None = None
) -> list[Visit]:
    """The contended sessions as Visits, with every draw made in bulk."""
    ctx = world.ctx
    t = ctx.model.tables
    jid = ctx.journeys.id[s.journey]
    crow = ctx.journeys.customer[s.journey]
    persona = ctx.customers.persona[crow]
    channel = s.channel.astype(np.int64)
    code = identity_code(world.level, channel, np.zeros(len(s), bool), ctx.customers.account[crow])
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
    helped = np.zeros(len(s), bool) if assisted is None else assisted
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
