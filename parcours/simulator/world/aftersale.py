"""Returns and exchanges, in bulk: decided when the purchase is made, written for when they happen.

Nothing contends at the returns desk in this model, so a return needs no SimPy process: its events are
written ahead, stamped with the moment they will happen, and the buffer releases them in time.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE, OUTCOME_CODE
from parcours.scenarios.capabilities import Capabilities
from parcours.simulator.model.buffer import EventBuffer, nulls
from parcours.simulator.model.identity import identity_code, identity_number
from parcours.simulator.model.rng import Purpose
from parcours.simulator.plan.expand import IN_STORE_CODE, Context
from parcours.simulator.plan.sessions import LAST_FOLLOW_UP, session_key
from parcours.vocabulary import Channel, EventType, Outcome


class Ledger(Protocol):
    """What returns need of the shard's world (``state.World``): its context, capabilities, journey
    ledger and event buffer.

    A protocol rather than an import of ``state``, which calls this module: no two modules import each
    other.
    """

    ctx: Context
    capabilities: Capabilities
    next_step: np.ndarray
    outcome: np.ndarray
    revenue: np.ndarray
    buffer: EventBuffer


RETURN_DELAY_S = 36 * 3600.0  # mean time between a purchase and its return
EXCHANGE_SHARE = 0.3  # returns in store that end in an exchange rather than a refund
MIN_DELAY_S = 601.0  # the earliest a return follows its purchase
DESK_S = 120.0  # from entering the store to the returns desk
STORE = CHANNEL_CODE[Channel.STORE]
MARKETPLACE = CHANNEL_CODE[Channel.MARKETPLACE]


def schedule_returns(
    world: Ledger,
    rows: np.ndarray,
    channel: np.ndarray,
    at_s: np.ndarray,
    amount: np.ndarray,
    product: np.ndarray,
    quantity: np.ndarray,
) -> None:
    """Some purchases come back: in store where channels are linked or it was bought there, else by post."""
    ctx = world.ctx
    model = ctx.model
    jid = ctx.journeys.id[rows]
    rate = model.tables["return_rate"][ctx.customers.persona[ctx.journeys.customer[rows]]]
    returned = ctx.streams.uniform(Purpose.RETURNS, jid, 0) < rate
    if not returned.any():
        return
    keep = np.flatnonzero(returned)
    rows, channel, jid = rows[keep], channel[keep].astype(np.int64), jid[keep]
    amount, product, quantity = amount[keep], product[keep], quantity[keep]
    when = at_s[keep] + np.maximum(
        MIN_DELAY_S, ctx.streams.exponential(RETURN_DELAY_S, Purpose.RETURNS, jid, 1)
    )
    # Linked channels accept online orders back in store, and some bring them (Etam: 85%); a
    # marketplace order goes back to the marketplace; a store purchase goes back to the store.
    persona = ctx.customers.persona[ctx.journeys.customer[rows]]
    brings = ctx.streams.uniform(Purpose.RETURNS, jid, 3) < model.tables["return_in_store_rate"][persona]
    linked = world.capabilities.returns_anywhere and model.has_stores
    in_store = (linked & brings & (channel != MARKETPLACE)) | IN_STORE_CODE[channel]
    carried = np.flatnonzero(in_store)
    if len(carried) and STORE in model.opening:  # in store: when it is open
        u = ctx.streams.uniform(Purpose.RETURNS, jid[carried], 4)
        when[carried] = model.opening[STORE].move(when[carried], u)
    step = world.next_step[rows].astype(np.int64)
    ok = (when + DESK_S * 2 < model.horizon_s) & (step <= LAST_FOLLOW_UP)
    if not ok.any():
        return
    keep = np.flatnonzero(ok)
    rows, channel, jid, when, step = rows[keep], channel[keep], jid[keep], when[keep], step[keep]
    amount, product, quantity, in_store = amount[keep], product[keep], quantity[keep], in_store[keep]
    world.next_step[rows] += 1
    exchange = in_store & (ctx.streams.uniform(Purpose.RETURNS, jid, 2) < EXCHANGE_SHARE)
    world.outcome[rows[~exchange]] = OUTCOME_CODE[Outcome.RETURNED]
    np.subtract.at(world.revenue, rows[~exchange], amount[~exchange])
    _write(
        world,
        rows,
        np.where(in_store, STORE, channel),
        when,
        step,
        exchange,
        in_store,
        amount,
        product,
        quantity,
    )


def _write(
    world: Ledger,
    rows: np.ndarray,
    channel: np.ndarray,
    when: np.ndarray,
    step: np.ndarray,
    exchange: np.ndarray,
    in_store: np.ndarray,
    amount: np.ndarray,
    product: np.ndarray,
    quantity: np.ndarray,
) -> None:
    """One event by post; three in store (enter, at the desk, leave)."""
    ctx = world.ctx
    n_events = np.where(in_store, 3, 1)
    ev = np.repeat(np.arange(len(rows)), n_events)
    pos = np.arange(len(ev)) - (np.cumsum(n_events) - n_events)[ev]
    kind = np.where(exchange, EVENT_CODE[EventType.EXCHANGE], EVENT_CODE[EventType.RETURN])[ev]
    store_kinds = np.array([EVENT_CODE[EventType.STORE_ENTER], -1, EVENT_CODE[EventType.STORE_EXIT]])
    etype = np.where(in_store[ev] & (pos != 1), store_kinds[pos], kind)
    t_s = when[ev] + np.array([0.0, DESK_S, DESK_S + 60.0])[pos]
    crow = ctx.journeys.customer[rows[ev]]
    code = identity_code(world.capabilities.identity, channel[ev], ~in_store[ev], ctx.customers.account[crow])
    cols = nulls(len(ev))
    at_desk = etype == kind
    cols.update(
        ts_ms=np.floor((ctx.model.t0 + t_s) * 1000.0).astype(np.int64),
        channel=channel[ev],
        event_type=etype,
        session=session_key(ctx.journeys.id[rows[ev]], step[ev]),
        id_code=code,
        id_number=identity_number(ctx.streams, ctx.customers.ids[crow], code),
        jrow=rows[ev],
        store=np.where(in_store[ev], ctx.customers.store[crow], -1),
        product=np.where(at_desk, product[ev], -1),
        quantity=np.where(at_desk, quantity[ev], -1),
        amount=np.where(at_desk, amount[ev], -1),
    )
    world.buffer.add(cols)
