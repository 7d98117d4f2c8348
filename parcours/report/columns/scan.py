"""One pass over the event log, feeding a few accumulators; everything else works on their output.

- ``Cube``: event counts by day type, event type, channel, persona and quarter-hour of local time;
- ``SessionCollector``: one row per session (its first event), with whether it reached a cart or an order;
- ``Picked``: the rare events whose values matter one by one (purchases, returns, stock-outs, waits);
- ``MessageCollector``: when each (customer, channel, campaign) was first sent, opened and clicked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.output.reader import Run
from parcours.report.columns.arrays import distinct, member
from parcours.report.columns.engagement import MessageCollector, Messages
from parcours.report.columns.events import DAY_MS, Calendar, Events, Vocab, concat, read_events
from parcours.vocabulary import EventType

QUARTER_MS = 15 * 60_000
QUARTERS = 96
#: The company acts, not the customer: these rows do not make a session on their channel.
COMPANY_EVENTS = (EventType.MESSAGE_SENT, EventType.ORDER_READY)
#: A session has a flag when it holds at least one of the flag's events.
SESSION_FLAGS: dict[str, tuple[EventType, ...]] = {
    "cart": (EventType.CART_ADD,),
    "order": (EventType.PURCHASE, EventType.KIOSK_ORDER),
    "purchase": (EventType.PURCHASE,),
    "entered": (EventType.STORE_ENTER,),
    "aftersale": (EventType.PICKUP, EventType.RETURN, EventType.EXCHANGE),
    "stockout": (EventType.STOCK_OUT,),
}
PICKED_EVENTS = (
    EventType.PURCHASE,
    EventType.KIOSK_ORDER,
    EventType.ORDER_READY,
    EventType.PICKUP,
    EventType.RETURN,
    EventType.EXCHANGE,
    EventType.STOCK_OUT,
    EventType.CALL_ANSWERED,
    EventType.CALL_ABANDONED,
    EventType.CHAT_ANSWERED,
    EventType.CHAT_ABANDONED,
    EventType.STAFF_ASSIST,
    EventType.ASSIST_ABANDONED,
)


def codes_of(vocab: Vocab, types: tuple[EventType, ...]) -> np.ndarray:
    return np.array([vocab.events.code(t.value) for t in types], np.int16)


class Cube:
    """counts[weekend, event, channel, persona, quarter-hour]: the shape of the day, per everything."""

    def __init__(self, vocab: Vocab, calendar: Calendar) -> None:
        self.shape = (2, len(vocab.events), len(vocab.channels), len(vocab.personas), QUARTERS)
        self.counts = np.zeros(int(np.prod(self.shape)), np.int64)
        self.weekend = calendar.weekend().astype(np.int64)
        self.calendar = calendar

    def add(self, ev: Events) -> None:
        quarter = (ev.local_ms % DAY_MS) // QUARTER_MS
        index = np.ravel_multi_index(
            (self.weekend[ev.day(self.calendar)], ev.event, ev.channel, ev.persona, quarter), self.shape
        )
        self.counts += np.bincount(index, minlength=self.counts.size)

    def finish(self) -> np.ndarray:
        return self.counts.reshape(self.shape)


@dataclass(frozen=True)
class Sessions:
    """One row per session, ordered by session id: where, who, when it started, how far it got."""

    session: np.ndarray
    customer: np.ndarray
    journey: np.ndarray  # the journey of the session's first event
    persona: np.ndarray
    channel: np.ndarray
    start_local_ms: np.ndarray
    cart: np.ndarray  # bool: a cart_add happened in the session
    order: np.ndarray  # bool: a purchase or kiosk order happened in the session
    purchase: np.ndarray  # bool: a purchase happened in the session
    entered: np.ndarray  # bool: a store_enter (the session is a store visit)
    aftersale: np.ndarray  # bool: a pickup, return or exchange
    stockout: np.ndarray  # bool: a stock_out


class SessionCollector:
    """Keeps each session's first row per batch; a session's earliest row wins at the end.

    Rows come in time order within a part and a part holds whole customers, so the first row seen of a
    session is its start. Only the columns a session needs are kept: memory follows sessions.
    """

    COLUMNS = ("session", "customer", "journey", "persona", "channel", "local_ms")

    def __init__(self, vocab: Vocab) -> None:
        self.company = codes_of(vocab, COMPANY_EVENTS)
        self.flag_codes = {name: codes_of(vocab, types) for name, types in SESSION_FLAGS.items()}
        self.firsts: dict[str, list[np.ndarray]] = {c: [] for c in self.COLUMNS}
        self.flagged: dict[str, list[np.ndarray]] = {name: [] for name in SESSION_FLAGS}

    def add(self, ev: Events) -> None:
        ev = ev.where(~np.isin(ev.event, self.company))
        _, first = np.unique(ev.session, return_index=True)
        for name, kept in self.firsts.items():
            kept.append(getattr(ev, name)[first])
        for name, codes in self.flag_codes.items():
            self.flagged[name].append(distinct(ev.session[np.isin(ev.event, codes)]))

    def finish(self) -> Sessions:
        firsts = {name: np.concatenate([np.zeros(0, np.int64), *kept]) for name, kept in self.firsts.items()}
        ids, first = np.unique(firsts["session"], return_index=True)  # stable: keeps the earliest batch's row
        flags = {
            name: member(ids, distinct(np.concatenate([np.zeros(0, np.int64), *kept])))
            for name, kept in self.flagged.items()
        }
        return Sessions(
            session=ids,
            customer=firsts["customer"][first],
            journey=firsts["journey"][first],
            persona=firsts["persona"][first],
            channel=firsts["channel"][first],
            start_local_ms=firsts["local_ms"][first],
            **flags,
        )


class Picked:
    """Every row of a few rare event types, kept whole."""

    def __init__(self, vocab: Vocab) -> None:
        self.codes = codes_of(vocab, PICKED_EVENTS)
        self.parts: list[Events] = []

    def add(self, ev: Events) -> None:
        self.parts.append(ev.where(np.isin(ev.event, self.codes)))

    def finish(self) -> Events:
        return concat(self.parts)


@dataclass(frozen=True)
class Scan:
    """What one pass over the events leaves behind."""

    cube: np.ndarray
    sessions: Sessions
    picked: Events
    messages: Messages


def scan(run: Run, vocab: Vocab, calendar: Calendar) -> Scan:
    cube, sessions, picked = Cube(vocab, calendar), SessionCollector(vocab), Picked(vocab)
    messages = MessageCollector(vocab)
    for ev in read_events(run, vocab, calendar):
        cube.add(ev)
        sessions.add(ev)
        picked.add(ev)
        messages.add(ev)
    return Scan(cube.finish(), sessions.finish(), picked.finish(), messages.finish())
