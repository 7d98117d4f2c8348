"""Sessions turned into events in bulk: start, login, looks, cart, checkout and purchase, end.

A session's events are laid out as segments, each of a known length per session, so every event's type
and time come from array arithmetic rather than a loop over sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE
from parcours.simulator.model.buffer import Columns, nulls
from parcours.simulator.model.channels import CAN_BUY, DWELL_S, MEAN_VIEWS, N_CHANNELS
from parcours.simulator.model.identity import identity_code, identity_number
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import Purpose, Streams
from parcours.simulator.plan.carts import has_cart, logs_in
from parcours.simulator.plan.sessions import PlannedJourneys, PlannedSessions, session_key
from parcours.vocabulary import Channel, EventType

NONE = -1
PRODUCT_FOCUS = 0.6  # share of product views on the journey's focal product


def _code(event: EventType | int) -> int:
    return event if isinstance(event, int) and not isinstance(event, EventType) else EVENT_CODE[event]


def _per_channel(mapping: dict[Channel, EventType | int], default: EventType | int) -> np.ndarray:
    out = np.full(N_CHANNELS, _code(default), dtype=np.int64)
    for channel, event in mapping.items():
        out[CHANNEL_CODE[channel]] = _code(event)
    return out


# An email session the customer starts is a message written to the company (service, a question): a
# message_opened or _clicked only ever follows a message_sent (messages.py writes those).
START_TYPE = _per_channel(
    {
        Channel.CATALOGUE: EventType.CATALOGUE_READ,
        Channel.STORE: EventType.STORE_ENTER,
    },
    EventType.SESSION_START,
)
END_TYPE = _per_channel({Channel.CATALOGUE: NONE, Channel.STORE: EventType.STORE_EXIT}, EventType.SESSION_END)
LOOK_TYPE = _per_channel(
    {
        Channel.EMAIL: EventType.SERVICE_MESSAGE,
        Channel.CATALOGUE: EventType.PRODUCT_VIEW,
        Channel.STORE: EventType.PRODUCT_VIEW,
        Channel.KIOSK: EventType.STOCK_CHECK,
    },
    NONE,  # digital screens mix searches, pages and products
)
STORE = CHANNEL_CODE[Channel.STORE]
IN_STORE = [STORE, CHANNEL_CODE[Channel.KIOSK]]


@dataclass(frozen=True)
class Context:
    """What event building reads: the model, the streams, this shard's customers and journeys."""

    model: Model
    streams: Streams
    customers: Customers  # the shard's acting customers (journeys' rows point into them)
    journeys: PlannedJourneys
    shard_customers: int = 0  # the shard's whole customer file, acting or not
    # the shard's stores and each one's customers (the whole file): staffing and stock serve them all
    shard_stores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    shard_store_customers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # every journey's basket (items, cents), drawn once when first asked (``basket_of``)
    baskets: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, compare=False, repr=False)


@dataclass
class Layout:
    """How many events of each segment every session has."""

    start: np.ndarray
    login: np.ndarray
    looks: np.ndarray
    cart: np.ndarray
    buy: np.ndarray  # 2 (checkout, purchase) or 0
    end: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.start + self.login + self.looks + self.cart + self.buy + self.end


def layout(ctx: Context, s: PlannedSessions, *, ends: bool = True) -> Layout:
    """Segment lengths for self-service sessions (and store visits' own part)."""
    j, c = ctx.journeys, ctx.customers
    crow = j.customer[s.journey]
    jid = j.id[s.journey]
    channel = s.channel.astype(np.int64)
    login = logs_in(ctx.model, ctx.streams, c, crow, jid, s.step, channel)
    looks = 1 + ctx.streams.poisson(MEAN_VIEWS[channel], Purpose.EVENT_COUNT, jid, s.step)
    looks[j.service[s.journey]] = 1
    carted = has_cart(ctx.model, ctx.streams, c, j, s.journey, s.step, channel, s.buy)
    cart = CAN_BUY[channel] & (s.buy | carted)
    return Layout(
        start=np.ones(len(s), dtype=np.int64),
        login=login.astype(np.int64),
        looks=looks,
        cart=cart.astype(np.int64),
        buy=np.where(s.buy & CAN_BUY[channel], 2, 0),
        end=((END_TYPE[channel] != NONE) & ends).astype(np.int64),
    )


def build(ctx: Context, s: PlannedSessions, lay: Layout) -> tuple[Columns, np.ndarray]:
    """Events of the sessions, and each session's last event time (seconds since t0)."""
    n = lay.total
    row = np.repeat(np.arange(len(s)), n)
    first = np.cumsum(n) - n
    pos = np.arange(len(row)) - first[row]
    channel = s.channel.astype(np.int64)[row]
    jrow = s.journey[row]
    jid = ctx.journeys.id[jrow]
    step = s.step[row]
    session = session_key(jid, step)

    b1 = lay.start[row]
    b2 = b1 + lay.login[row]
    b3 = b2 + lay.looks[row]
    b4 = b3 + lay.cart[row]
    b5 = b4 + lay.buy[row]
    look = _look_types(ctx, channel, session, pos, ctx.journeys.service[jrow])
    etype = np.select(
        [pos < b1, pos < b2, pos < b3, pos < b4, (pos == b4) & (pos < b5), pos < b5],
        [
            START_TYPE[channel],
            EVENT_CODE[EventType.LOGIN],
            look,
            EVENT_CODE[EventType.CART_ADD],
            EVENT_CODE[EventType.CHECKOUT],
            EVENT_CODE[EventType.PURCHASE],
        ],
        END_TYPE[channel],
    )
    gaps = ctx.streams.exponential(DWELL_S[channel], Purpose.DWELL, session, pos)
    gaps[pos == 0] = 0.0
    offset = np.cumsum(gaps)
    offset -= (offset - gaps)[first][row]  # restart the running sum at each session's first event
    t_s = s.start_s[row] + offset
    last_s = t_s[first + n - 1] if len(n) else np.zeros(0)

    cols = nulls(len(row))
    crow = ctx.journeys.customer[jrow]
    cols.update(
        ts_ms=np.floor(ctx.model.t0 * 1000.0 + t_s * 1000.0).astype(np.int64),
        customer=ctx.customers.ids[crow],
        persona=ctx.customers.persona[crow],
        channel=channel,
        event_type=etype,
        session=session,
        journey=jid,
    )
    _products_and_baskets(ctx, cols, jrow, session, pos, etype)
    cols["store"] = np.where(np.isin(channel, IN_STORE), ctx.customers.store[crow], -1)
    cols["campaign"] = np.where(step == 0, ctx.journeys.campaign[jrow], -1)
    logged_in = (lay.login[row] == 1) & (pos >= b2)
    identity = ctx.model.scenario.capabilities.identity
    code = identity_code(identity, channel, logged_in, ctx.customers.account[crow])
    cols["id_code"] = code
    cols["id_number"] = identity_number(ctx.streams, cols["customer"], code)
    cols["jrow"] = jrow
    return cols, last_s


def _look_types(
    ctx: Context, channel: np.ndarray, session: np.ndarray, pos: np.ndarray, service: np.ndarray
) -> np.ndarray:
    u = ctx.streams.uniform(Purpose.EVENT_KIND, session, pos)
    screen = np.select(
        [u < 0.2, u < 0.5],
        [EVENT_CODE[EventType.SEARCH], EVENT_CODE[EventType.PAGE_VIEW]],
        EVENT_CODE[EventType.PRODUCT_VIEW],
    )
    look = np.where(LOOK_TYPE[channel] == NONE, screen, LOOK_TYPE[channel])
    return np.where(service, EVENT_CODE[EventType.SERVICE_MESSAGE], look)


def _products_and_baskets(
    ctx: Context, cols: Columns, jrow: np.ndarray, session: np.ndarray, pos: np.ndarray, etype: np.ndarray
) -> None:
    focal = ctx.journeys.product[jrow]
    products = ctx.model.scenario.stores.products
    u = ctx.streams.uniform(Purpose.PRODUCT, session, pos)
    other = (products * (u / (1.0 - PRODUCT_FOCUS)) ** 2).astype(np.int64) % products
    viewed = np.where(u < 1.0 - PRODUCT_FOCUS, other, focal)
    has_product = np.isin(
        etype,
        [EVENT_CODE[e] for e in (EventType.PRODUCT_VIEW, EventType.STOCK_CHECK)],
    )
    basket = np.isin(
        etype, [EVENT_CODE[e] for e in (EventType.CART_ADD, EventType.CHECKOUT, EventType.PURCHASE)]
    )
    cols["product"] = np.where(has_product, viewed, np.where(basket, focal, -1))
    quantity, amount = basket_of(ctx, jrow)
    cols["quantity"] = np.where(basket, quantity, -1)
    cols["amount"] = np.where(etype == EVENT_CODE[EventType.PURCHASE], amount, -1)


def basket_of(ctx: Context, jrow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items and amount (cents) of a journey's basket: the same wherever it is bought.

    Drawn for every journey of the shard at the first call (a few arrays the size of the journeys),
    then looked up: the slices ask for baskets hundreds of times, a few rows at a time."""
    if not ctx.baskets:
        ctx.baskets.append(_baskets(ctx, np.arange(len(ctx.journeys))))
    quantity, amount = ctx.baskets[0]
    return quantity[jrow], amount[jrow]


def _baskets(ctx: Context, jrow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = ctx.model.tables
    jid = ctx.journeys.id[jrow]
    persona = ctx.customers.persona[ctx.journeys.customer[jrow]]
    quantity = 1 + ctx.streams.poisson(t["mean_items"][persona] - 1.0, Purpose.ITEMS, jid)
    sigma = t["basket_sigma"][persona]
    factor = np.exp(sigma * ctx.streams.normal(Purpose.BASKET, jid) - sigma**2 / 2)
    amount = np.maximum(100, np.round(t["basket_eur"][persona] * 100.0 * factor)).astype(np.int64)
    return quantity, amount
