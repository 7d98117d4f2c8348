"""The shard's world: its SimPy environment, desks, opening hours, stock, the event buffer and the
journeys' running outcomes, and the Visit, one contended session with every draw it needs made ahead.
"""

from __future__ import annotations

import bisect
import math
from copy import copy
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE, OUTCOME_CODE
from parcours.simulator.model.buffer import EventBuffer
from parcours.simulator.model.identity import ACCOUNT, SILO, identity_number_one
from parcours.simulator.model.opening import Opening
from parcours.simulator.plan.expand import Context
from parcours.simulator.plan.sessions import FIRST_FOLLOW_UP, LAST_FOLLOW_UP, STEP_BITS, PlannedSessions
from parcours.simulator.world.aftersale import schedule_returns
from parcours.simulator.world.agents import Agents
from parcours.simulator.world.staffing import Staffing, staffed_desk, store_desk
from parcours.simulator.world.stock import Stock
from parcours.vocabulary import Channel, EventType, Outcome

C = CHANNEL_CODE
# Plain int attributes for the hot paths: an enum member lookup per event adds up.
EV = SimpleNamespace(**{e.name: EVENT_CODE[e] for e in EventType})
CH = SimpleNamespace(**{c.name: CHANNEL_CODE[c] for c in Channel})
PHONE, CHAT, STORE, KIOSK = CH.PHONE, CH.CHAT, CH.STORE, CH.KIOSK
KNOWN_OFFLINE = (STORE, PHONE, CHAT, KIOSK)  # a card or a known number identifies the customer here
MAX_CALLBACKS = 3
CALLBACK_GAP_S = 1800.0  # mean time before an abandoned caller tries again
ONLINE_LATER_S = 7200.0  # mean time before a customer who met an empty shelf looks online
PICKUP_DELAY_S = 3 * 3600.0  # mean time between "your order is ready" and the pick-up
STEP_GAP_S = 30.0  # between two steps at a desk or a kiosk
SLICE_AHEAD_S = 601.0  # the earliest a session decided now (online after an empty shelf) can start
# Pre-drawn uniforms of a Visit, by use.
U_ORDER, U_HOLD, U_ONLINE, U_FRICTION, U_CALLBACK, U_WHEN = range(6)
N_DRAWS = 6


@dataclass(slots=True)
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

    agents: Agents
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

    def earliest_s(self) -> float:
        """When the first of these sessions starts (infinity if none)."""
        return min((r[2] for r in self.rows), default=math.inf)

    def due(self, until_s: float) -> PlannedSessions | None:
        ready = [r for r in self.rows if r[2] < until_s]
        if not ready:
            return None
        self.rows = [r for r in self.rows if r[2] >= until_s]
        cols = list(zip(*ready, strict=True))
        return PlannedSessions(
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.float64),
            np.array(cols[3], np.int8),
            np.array(cols[4], bool),
            np.array(cols[5], np.int8),
        )


class Hours:
    """Scalar questions about one channel's opening periods, asked by processes one at a time: the
    ``Opening`` arithmetic on plain floats (a one-element NumPy call costs a hundred times more), the
    same operations in the same order, so the same moments."""

    def __init__(self, opening: Opening) -> None:
        self.opening = opening
        self._day_starts = opening.hour_s[:, 0].tolist()
        self._opens = opening.opens_s.tolist()
        self._closes = opening.closes_s.tolist()
        self._hour_s = opening.hour_s.tolist()
        self._cum = opening.cum.tolist()

    def _day(self, at_s: float) -> int:
        return min(max(bisect.bisect_right(self._day_starts, at_s) - 1, 0), len(self._opens) - 1)

    def _next_day(self, at_s: float) -> int | None:
        """The first day whose opening is still ahead (``Opening._next_day``); None past the run."""
        first = self._day(at_s)
        for d in range(first, min(first + 8, len(self._opens))):
            if self._opens[d] >= at_s:  # False for a day closed throughout (nan)
                return d
        return None

    def is_open(self, at_s: float) -> bool:
        d = self._day(at_s)
        return at_s >= self._opens[d] and at_s < self._closes[d]

    def next_opening(self, at_s: float) -> float | None:
        """The first moment at or after ``at_s`` when open, within the run."""
        if self.is_open(at_s):
            return at_s
        d = self._next_day(at_s)
        return None if d is None else self._opens[d]

    def move(self, at_s: float, u: float) -> float | None:
        """``at_s`` if open, else a time of the next opening day drawn from its shape (None: past the run)."""
        if self.is_open(at_s):
            return at_s
        d = self._next_day(at_s)
        if d is None:
            return None
        cum = self._cum[d]
        w = u * cum[-1]
        hour = min(sum(1 for c in cum if c < w), 23)
        lo = cum[hour - 1] if hour > 0 else 0.0
        width = cum[hour] - lo
        frac = (w - lo) / width if width > 0 else 0.0
        begin = max(self._hour_s[d][hour], self._opens[d])
        end = min(self._hour_s[d][hour + 1], self._closes[d])
        return begin + frac * (end - begin)


class World:
    """The shard's SimPy environment, desks, stock, event buffer and the journeys' running outcomes."""

    def __init__(self, ctx: Context, env: simpy.Environment, buffer: EventBuffer, staffing: Staffing) -> None:
        self.ctx, self.env, self.buffer = ctx, env, buffer
        model, sc = ctx.model, ctx.model.scenario
        self.capabilities = sc.capabilities
        self.t0_ms = model.t0 * 1000.0
        # staffing and stock serve the shard's whole file, acting today or not
        sample = ctx.shard_customers
        stores, counts = ctx.shard_stores, ctx.shard_store_customers
        key = [sc.population.seed, int(stores[0]) if len(stores) else 0]

        def desk(kind: str, i: int) -> Agents:
            rng = np.random.default_rng([*key, i])
            return staffed_desk(model, kind, staffing, sample, rng)

        self.phone = Desk(desk("phone", 0), EV.CALL_ANSWERED, EV.CALL_ABANDONED, EV.CALL_END, can_buy=True)
        self.chat = Desk(desk("chat", 1), EV.CHAT_ANSWERED, EV.CHAT_ABANDONED, EV.CHAT_END, can_buy=False)
        self.staffing = staffing
        self.store_customers = dict(zip(stores.tolist(), counts.tolist(), strict=True))
        self.stock = Stock(model, ctx.streams, stores, counts, staffing.plan_for)
        self.preparers: dict[int, simpy.Resource] = {}
        self.staff: dict[int, Desk] = {}
        self.store_hours = Hours(model.opening[STORE])
        self.call_hours = Hours(model.opening[PHONE])
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
                "stockout_substitute_rate",
                "pickup_cross_sell",
            )
        }

    def desk(self, channel: int, store: int) -> Desk:
        if channel == PHONE:
            return self.phone
        if channel == CHAT:
            return self.chat
        if store not in self.staff:
            self.staff[store] = Desk(
                store_desk(self.ctx.model, self.staffing, self.store_customers.get(store, 1)),
                EV.STAFF_ASSIST,
                EV.ASSIST_ABANDONED,
                None,
                can_buy=True,
            )
        return self.staff[store]

    def preparer(self, store: int) -> simpy.Resource:
        """Who prepares click & collect orders: dedicated staff, so orders never take the floor."""
        if store not in self.preparers:
            self.preparers[store] = simpy.Resource(
                self.env, self.ctx.model.scenario.stores.preparers_per_store
            )
        return self.preparers[store]

    def rate(self, name: str, v: Visit) -> float:
        return float(self.persona_rates[name][v.persona])

    def follow_up_step(self, jrow: int) -> int | None:
        step = int(self.next_step[jrow])
        if step > LAST_FOLLOW_UP:
            return None
        self.next_step[jrow] = step + 1
        return step

    def session(self, v: Visit, channel: int, step: int, logged_in: bool = False) -> Visit:
        """The same customer and journey, in another session on another channel."""
        known = logged_in or (v.account and channel in KNOWN_OFFLINE)
        identity = self.capabilities.identity
        if identity == "silos":
            code = SILO + channel if known else channel
        elif identity == "shared":
            code = ACCOUNT if known else channel
        else:  # omnichannel recognises whoever has identified at some point
            code = ACCOUNT if v.account else channel
        number = identity_number_one(self.ctx.streams, v.customer, code)
        moved = copy(v)
        moved.channel, moved.step, moved.id_code, moved.id_number = channel, step, code, number
        return moved

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
                v.channel,
                event_type,
                v.session,
                product,
                store,
                -1,
                quantity,
                amount,
                v.id_code,
                v.id_number,
                v.jrow,
            ),
            wait_s,
        )

    def buy(self, v: Visit, at_s: float | None = None) -> None:
        self.emit(v, EV.CHECKOUT, at_s=at_s, product=v.product, quantity=v.quantity)
        self.emit(v, EV.PURCHASE, at_s=at_s, product=v.product, quantity=v.quantity, amount=v.amount)
        self.outcome[v.jrow] = OUTCOME_CODE[Outcome.BOUGHT]
        self.revenue[v.jrow] += v.amount
        when = self.env.now if at_s is None else at_s
        self.sold.rows.append((v.jrow, v.channel, when, v.amount, v.product, v.quantity))


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
