"""The contended part of the day, as SimPy processes: callers waiting for agents, store customers
waiting for staff at a shelf that may be empty, click & collect orders waiting for staff to prepare
them. Only what contends is a process; everything else is columns, and what follows a contended step
without contending (a pick-up, a kiosk order) is written ahead with the times it will happen.
"""

from __future__ import annotations

from collections.abc import Generator
from copy import copy
from typing import Any

import numpy as np
import simpy
from simpy.events import EventPriority

from parcours.output.schema import OUTCOME_CODE
from parcours.simulator.model.identity import identity_code, identity_number
from parcours.simulator.model.rng import Purpose
from parcours.simulator.plan.expand import basket_of
from parcours.simulator.plan.sessions import FIRST_FOLLOW_UP, PlannedSessions
from parcours.simulator.world.state import (
    CALLBACK_GAP_S,
    CH,
    CHAT,
    EV,
    KIOSK,
    MAX_CALLBACKS,
    N_DRAWS,
    ONLINE_LATER_S,
    PHONE,
    SLICE_AHEAD_S,
    STEP_GAP_S,
    STORE,
    U_CALLBACK,
    U_HOLD,
    U_ONLINE,
    U_ORDER,
    U_WHEN,
    Desk,
    Visit,
    World,
)
from parcours.simulator.world.steps import start
from parcours.vocabulary import Outcome

CROSS_SELL_BASKET = 0.5  # an add-on bought at a pick-up, as a share of the order: assumption

# -- desks: phone, chat, store staff ----------------------------------------------------------------


def serve(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """A caller or chatter, from the moment they call (``start_visits``): queue, then served or gone
    when patience runs out; may call back."""
    desk = world.desk(v.channel, -1)
    world.emit(v, EV.CALL_QUEUED if v.channel == PHONE else EV.CHAT_QUEUED)
    served = yield from wait_for(world, desk, v)
    if not served:
        _maybe_call_back(world, v)
        return
    if v.buys and desk.can_buy:
        world.buy(v)
    if desk.end is not None:
        world.emit(v, desk.end)


def wait_for(
    world: World, desk: Desk, v: Visit, service_s: float | None = None
) -> Generator[simpy.Event, Any, bool]:
    """Queue at a desk with the customer's patience; served (for ``v.service_s`` unless given) or gone.

    The desk says at once when an agent will answer, or that the customer hangs up first (agents.py):
    the process only waits for that moment."""
    env = world.env
    queued = env.now
    service = v.service_s if service_s is None else service_s
    answered = desk.agents.arrive(queued, v.patience_s, service)
    if answered is None:
        yield env.timeout(v.patience_s)
        desk.gave_up += 1
        world.emit(v, desk.abandoned, wait_s=env.now - queued)
        return False
    if answered > queued:
        yield _last_at(env, answered - queued)
    desk.served += 1
    world.emit(v, desk.answered, wait_s=env.now - queued)
    yield env.timeout(service)
    return True


LAST = EventPriority(2)  # after SimPy's NORMAL (1) and URGENT (0) events of the same moment


def _last_at(env: simpy.Environment, delay: float) -> simpy.Event:
    """A timeout that fires after the other events of its moment (as ``env.timeout`` does, at a lower
    priority): the call that frees the agent ends, and writes its end, before the next is answered,
    as when the next caller's request was granted by that call's release."""
    event = env.event()
    event._ok, event._value = True, None
    env.schedule(event, LAST, delay)
    return event


def _maybe_call_back(world: World, v: Visit) -> None:
    """An abandoned caller may try again later, while the call centre is still open."""
    if v.step >= FIRST_FOLLOW_UP + MAX_CALLBACKS - 1 or v.u[U_CALLBACK] >= world.rate("callback_rate", v):
        return
    again = world.env.now + CALLBACK_GAP_S * v.delay_s
    if again >= world.ctx.model.horizon_s or not world.call_hours.is_open(again):
        return
    step = world.follow_up_step(v.jrow)
    if step is not None:
        # the same customer, journey, channel and basket: only the step's own draws are new
        (patience,), (service,), (u,), (delay,) = _step_draws(
            world, np.array([v.journey_id]), np.array([step]), np.array([v.persona]), np.array([v.channel])
        )
        call = copy(v)
        call.step, call.arrival_s, call.patience_s, call.service_s, call.u, call.delay_s = (
            step,
            again,
            patience,
            service,
            tuple(u),
            delay,
        )
        start(world.env, serve(world, call), at_s=again)


def store_visit(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    """In the store, from the moment the customer has looked around (``start_visits``): maybe ask staff
    for help, maybe buy (if the shelf has it), then leave."""
    if v.assisted:
        helped = yield from wait_for(world, world.desk(STORE, v.store), v)
        if not helped:
            world.emit(v, EV.STORE_EXIT)
            return
    if v.buys:
        yield from store_purchase(world, v)
    world.emit(v, EV.STORE_EXIT)


def _uniform(world: World, v: Visit, k: int) -> float:
    """One more uniform for the visit's decisions, from its own stream."""
    return world.ctx.streams.bits_one(Purpose.CROSS_SELL, v.journey_id, v.step, k) / 2.0**64


def store_purchase(world: World, v: Visit) -> Generator[simpy.Event, Any, None]:
    if world.stock.take(v.store, v.product, v.quantity):
        world.buy(v)
        return
    world.emit(v, EV.STOCK_OUT, product=v.product, quantity=v.quantity, amount=v.amount)
    if _uniform(world, v, 0) < world.rate("stockout_substitute_rate", v):
        world.buy(v)  # another brand or size from the shelf (Gruen et al. 2002), at every level
        return
    world.outcome[v.jrow] = OUTCOME_CODE[Outcome.LOST_TO_STOCKOUT]
    caps = world.capabilities
    if caps.order_from_store and v.u[U_ORDER] < world.rate("stockout_order_rate", v):
        ordered = yield from order_from_store(world, v)
        if ordered:
            return
    elif caps.hold_other_store and v.u[U_HOLD] < world.rate("click_collect_rate", v):
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
    ordered = yield from wait_for(world, world.desk(STORE, v.store), v, STEP_GAP_S * 4)
    if ordered:
        world.buy(v)  # ordered at the desk, delivered home
    return ordered


def kiosk_order(world: World, v: Visit) -> None:
    """At the in-store kiosk: check stock elsewhere, order for delivery; no staff needed."""
    now = world.env.now
    world.emit(v, EV.SESSION_START, at_s=now)
    world.emit(v, EV.STOCK_CHECK, at_s=now + STEP_GAP_S, product=v.product)
    world.emit(v, EV.KIOSK_ORDER, at_s=now + 2 * STEP_GAP_S, product=v.product, quantity=v.quantity)
    world.buy(v, at_s=now + 2 * STEP_GAP_S)
    world.emit(v, EV.SESSION_END, at_s=now + 3 * STEP_GAP_S)


def online_later(world: World, v: Visit) -> None:
    """After a stock-out, the customer looks for the product online, later, by themselves."""
    at = world.env.now + max(SLICE_AHEAD_S, ONLINE_LATER_S * v.delay_s)
    step = world.follow_up_step(v.jrow)
    if at >= world.ctx.model.horizon_s - 3600.0 or step is None:
        return
    app = bool(world.ctx.customers.app[world.ctx.journeys.customer[v.jrow]])
    channel = CH.MOBILE_APP if app else CH.MOBILE_WEB
    # Searching the site again needs nothing from the store: no link, no friction, at every level.
    world.pending.rows.append((v.jrow, step, float(at), channel, True, STORE))


def click_and_collect(world: World, v: Visit, pickup_delay_s: float) -> Generator[simpy.Event, Any, None]:
    """Store staff prepare the order; a message says it is ready; the customer comes to pick it up."""
    env = world.env
    opening = world.store_hours.next_opening(max(env.now, v.arrival_s))
    if opening is None:
        return
    if opening > env.now:
        yield env.timeout(opening - env.now)
    with world.preparer(v.store).request() as request:
        yield request
        yield env.timeout(world.ctx.model.scenario.stores.prepare_order_s)
    ready_at = env.now
    if not world.stock.take(v.store, v.product, v.quantity):
        ready_at += 4 * 3600.0  # sent from the warehouse instead
    ready_step, pickup_step = world.follow_up_step(v.jrow), world.follow_up_step(v.jrow)
    if ready_step is None or pickup_step is None or ready_at >= world.ctx.model.horizon_s:
        return
    app = bool(world.ctx.customers.app[world.ctx.journeys.customer[v.jrow]])
    ready = world.session(v, CH.PUSH if app else CH.SMS, ready_step, logged_in=True)
    world.emit(ready, EV.ORDER_READY, at_s=ready_at, product=v.product, quantity=v.quantity)
    pickup_at = world.store_hours.move(ready_at + pickup_delay_s, v.u[U_WHEN])
    if pickup_at is None or pickup_at + 6 * STEP_GAP_S >= world.ctx.model.horizon_s:
        return
    pickup = world.session(v, STORE, pickup_step)
    world.emit(pickup, EV.STORE_ENTER, at_s=pickup_at)
    world.emit(pickup, EV.PICKUP, at_s=pickup_at + 4 * STEP_GAP_S, product=v.product, quantity=v.quantity)
    if _uniform(world, pickup, 1) < world.rate("pickup_cross_sell", v):
        # In the store to collect, some pick something else off the shelf (Gallino & Moreno 2014).
        extra = copy(pickup)
        extra.amount = max(100, round(v.amount * CROSS_SELL_BASKET))
        extra.product = (v.product * 7 + 1) % world.ctx.model.scenario.stores.products
        world.buy(extra, at_s=pickup_at + 5 * STEP_GAP_S)
    world.emit(pickup, EV.STORE_EXIT, at_s=pickup_at + 6 * STEP_GAP_S)


# -- contended sessions in bulk ---------------------------------------------------------------------


def visits(
    world: World, s: PlannedSessions, arrival_s: np.ndarray, assisted: np.ndarray | None = None
) -> list[Visit]:
    """The sessions as Visits, with every draw made in bulk."""
    ctx = world.ctx
    jid = ctx.journeys.id[s.journey]
    crow = ctx.journeys.customer[s.journey]
    persona = ctx.customers.persona[crow]
    channel = s.channel.astype(np.int64)
    account = ctx.customers.account[crow]
    code = identity_code(world.capabilities.identity, channel, np.zeros(len(s), bool), account)
    number = identity_number(ctx.streams, ctx.customers.ids[crow], code)
    patience, service, u, delay = _step_draws(world, jid, s.step, persona, channel)
    quantity, amount = basket_of(ctx, s.journey)
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
        patience,
        service,
        amount.tolist(),
        quantity.tolist(),
        ctx.journeys.product[s.journey].tolist(),
        map(tuple, u),
        delay,
        helped.tolist(),
        strict=True,
    )
    return [Visit(*row) for row in rows]


def _step_draws(
    world: World, jid: np.ndarray, step: np.ndarray, persona: np.ndarray, channel: np.ndarray
) -> tuple[list[float], list[float], list[list[float]], list[float]]:
    """A contended session's own draws (patience, service time, decisions' uniforms, a delay), which
    depend on its journey and step: the same whether drawn with its slice or alone (a call-back)."""
    ctx = world.ctx
    cc, stores = ctx.model.scenario.call_centre, ctx.model.scenario.stores
    # (np.where, not np.select: the same values for a tenth of the calls on a slice's few rows)
    service_mean = np.where(
        channel == PHONE, cc.mean_talk_s, np.where(channel == CHAT, cc.mean_chat_s, stores.mean_assist_s)
    )
    patience = ctx.streams.exponential(ctx.model.tables["patience_s"][persona], Purpose.PATIENCE, jid, step)
    service = ctx.streams.exponential(service_mean, Purpose.TALK, jid, step)
    u = ctx.streams.uniform(Purpose.STOCK, jid[:, None], step[:, None], np.arange(N_DRAWS)[None, :])
    delay = ctx.streams.exponential(1.0, Purpose.CALLBACK, jid, step)
    return patience.tolist(), service.tolist(), u.tolist(), delay.tolist()


def start_visits(
    world: World, s: PlannedSessions, arrival_s: np.ndarray, assisted: np.ndarray | None = None
) -> None:
    if len(s) == 0:
        return
    for v in visits(world, s, arrival_s, assisted):
        process = store_visit if v.channel == STORE else serve
        start(world.env, process(world, v), at_s=v.arrival_s)
