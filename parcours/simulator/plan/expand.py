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
from parcours.simulator.model.rng import PoissonTable, Purpose, Streams
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
IN_STORE_CODE = np.isin(np.arange(N_CHANNELS), IN_STORE)  # by channel code: in the store (or its kiosk)
_VIEWS = PoissonTable(MEAN_VIEWS)  # product and page views per session, by channel
_LOOKING = -2  # a look whose type is drawn per event
_MIDDLE_TYPES = [EVENT_CODE[EventType.LOGIN], _LOOKING] + [
    EVENT_CODE[e] for e in (EventType.CART_ADD, EventType.CHECKOUT, EventType.PURCHASE)
]


def _event_flags(events: tuple[EventType, ...]) -> np.ndarray:
    flags = np.zeros(max(EVENT_CODE.values()) + 1, dtype=bool)
    flags[[EVENT_CODE[e] for e in events]] = True
    return flags


_HAS_PRODUCT = _event_flags((EventType.PRODUCT_VIEW, EventType.STOCK_CHECK))
_IN_BASKET = _event_flags((EventType.CART_ADD, EventType.CHECKOUT, EventType.PURCHASE))


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


def layout(ctx: Context, s: PlannedSessions) -> Layout:
    """Segment lengths of sessions' events (a store visit's purchase and leaving are its process's:
    ``dispatch`` sets those segments to zero)."""
    j, c = ctx.journeys, ctx.customers
    crow = j.customer[s.journey]
    jid = j.id[s.journey]
    channel = s.channel.astype(np.int64)
    login = logs_in(ctx.model, ctx.streams, c, crow, jid, s.step, channel)
    looks = 1 + _VIEWS.draw(channel, ctx.streams.uniform(Purpose.EVENT_COUNT, jid, s.step))
    looks[j.service[s.journey]] = 1
    carted = has_cart(ctx.model, ctx.streams, c, j, s.journey, s.step, channel, s.buy)
    cart = CAN_BUY[channel] & (s.buy | carted)
    return Layout(
        start=np.ones(len(s), dtype=np.int64),
        login=login.astype(np.int64),
        looks=looks,
        cart=cart.astype(np.int64),
        buy=np.where(s.buy & CAN_BUY[channel], 2, 0),
        end=(END_TYPE[channel] != NONE).astype(np.int64),
    )


def build(ctx: Context, s: PlannedSessions, lay: Layout) -> tuple[Columns, np.ndarray]:
    """Events of the sessions, and each session's last event time (seconds since t0).

    What a session's events share is looked up once per session and repeated over its events (the
    lookups into the shard's journeys and customers are random reads; repeats are sequential)."""
    n = lay.total
    first = np.cumsum(n) - n
    pos = np.arange(int(n.sum())) - np.repeat(first, n)
    j, c = ctx.journeys, ctx.customers
    crow_s = j.customer[s.journey]
    channel_s = s.channel.astype(np.int64)
    jid_s = j.id[s.journey]

    def each(per_session: np.ndarray) -> np.ndarray:
        return np.repeat(per_session, n)

    channel = each(channel_s)
    session = each(session_key(jid_s, s.step))

    # Each session's events are its segments in order, each segment one type repeated: one repeat
    # of a (sessions x segments) table of types by the table of lengths.
    half = lay.buy // 2  # checkout, then purchase
    lengths = np.stack([lay.start, lay.login, lay.looks, lay.cart, half, half, lay.end], axis=1)
    types = np.empty(lengths.shape, dtype=np.int64)
    types[:, 0] = START_TYPE[channel_s]
    types[:, 1:6] = _MIDDLE_TYPES
    types[:, 6] = END_TYPE[channel_s]
    etype = np.repeat(types.ravel(), lengths.ravel())
    looking = np.flatnonzero(etype == _LOOKING)  # a draw per look only: the others need none
    etype[looking] = _look_types(
        ctx, channel[looking], session[looking], pos[looking], each(j.service[s.journey])[looking]
    )
    gaps = ctx.streams.exponential(each(DWELL_S[channel_s]), Purpose.DWELL, session, pos)
    gaps[pos == 0] = 0.0
    offset = np.cumsum(gaps)
    offset -= each((offset - gaps)[first])  # restart the running sum at each session's first event
    t_s = each(s.start_s) + offset
    last_s = t_s[first + n - 1] if len(n) else np.zeros(0)

    cols = nulls(len(pos))
    cols.update(  # the customer, persona and journey id follow from jrow where the events are written
        ts_ms=np.floor(ctx.model.t0 * 1000.0 + t_s * 1000.0).astype(np.int64),
        channel=channel,
        event_type=etype,
        session=session,
    )
    quantity, amount = basket_of(ctx, s.journey)
    _products_and_baskets(
        ctx, cols, each(j.product[s.journey]), (each(quantity), each(amount)), session, pos, etype
    )
    cols["store"] = each(np.where(IN_STORE_CODE[channel_s], c.store[crow_s], -1))
    cols["campaign"] = each(np.where(s.step == 0, j.campaign[s.journey], -1))
    # A session shows at most two ids, before and after its login: each drawn once per session.
    logged_in = each(lay.login == 1) & (pos >= 2)  # from the event after the login on
    identity = ctx.model.scenario.capabilities.identity
    account, ids = c.account[crow_s], c.ids[crow_s]
    codes = [identity_code(identity, channel_s, np.full(len(s), known), account) for known in (False, True)]
    numbers = [identity_number(ctx.streams, ids, code) for code in codes]
    cols["id_code"] = np.where(logged_in, each(codes[1]), each(codes[0]))
    cols["id_number"] = np.where(logged_in, each(numbers[1]), each(numbers[0]))
    cols["jrow"] = each(s.journey)
    return cols, last_s


def _look_types(
    ctx: Context, channel: np.ndarray, session: np.ndarray, pos: np.ndarray, service: np.ndarray
) -> np.ndarray:
    u = ctx.streams.uniform(Purpose.EVENT_KIND, session, pos)
    screen = np.where(
        u < 0.2,
        EVENT_CODE[EventType.SEARCH],
        np.where(u < 0.5, EVENT_CODE[EventType.PAGE_VIEW], EVENT_CODE[EventType.PRODUCT_VIEW]),
    )
    look = np.where(LOOK_TYPE[channel] == NONE, screen, LOOK_TYPE[channel])
    return np.where(service, EVENT_CODE[EventType.SERVICE_MESSAGE], look)


def _products_and_baskets(
    ctx: Context,
    cols: Columns,
    focal: np.ndarray,
    basket_: tuple[np.ndarray, np.ndarray],
    session: np.ndarray,
    pos: np.ndarray,
    etype: np.ndarray,
) -> None:
    products = ctx.model.scenario.stores.products
    basket = _IN_BASKET[etype]
    product = np.where(basket, focal, -1)
    viewing = np.flatnonzero(_HAS_PRODUCT[etype])  # a draw per product seen only
    u = ctx.streams.uniform(Purpose.PRODUCT, session[viewing], pos[viewing])
    other = (products * (u / (1.0 - PRODUCT_FOCUS)) ** 2).astype(np.int64) % products
    product[viewing] = np.where(u < 1.0 - PRODUCT_FOCUS, other, focal[viewing])
    cols["product"] = product
    quantity, amount = basket_
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
    items = PoissonTable(t["mean_items"] - 1.0)
    quantity = 1 + items.draw(persona, ctx.streams.uniform(Purpose.ITEMS, jid))
    sigma = t["basket_sigma"][persona]
    factor = np.exp(sigma * ctx.streams.normal(Purpose.BASKET, jid) - sigma**2 / 2)
    amount = np.maximum(100, np.round(t["basket_eur"][persona] * 100.0 * factor)).astype(np.int64)
    return quantity, amount
