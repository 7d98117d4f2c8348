"""Small runs whose realism figures are known by construction, written with the real writer.

``Builder`` lays sessions one after the other through a day and keeps the rows as plain objects
(tests/report_support.py writes them); ``calibrated_day`` is a day whose every checkable figure sits
inside its published range, with the counts chosen so the intervals are decisive.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.report_support import PERSONAS, TZ, Content, Ev, Jr, write_run

MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


@dataclass
class Builder:
    start: dt.date = TUESDAY
    days: int = 1
    scenario: dict[str, Any] = field(default_factory=dict)
    inactive: int = 0
    content: Content = field(init=False)

    def __post_init__(self) -> None:
        self.content = Content(
            start=self.start, days=self.days, scenario=self.scenario, inactive=self.inactive
        )
        self.ids = itertools.count(1)
        self.clock: dict[tuple[int, int], float] = {}  # (customer, day) -> next free minute

    def at(self, day: int, minute: float) -> int:
        date = self.start + dt.timedelta(days=day)
        midnight = dt.datetime(date.year, date.month, date.day, tzinfo=ZoneInfo(TZ))
        return int((midnight + dt.timedelta(minutes=minute)).timestamp() * 1000)

    def session(
        self,
        customer: int,
        channel: str,
        events: list[tuple[str, dict[str, Any]]],
        *,
        day: int = 0,
        journey: int | None = None,
    ) -> int:
        """One session of ``events`` (with extra fields), two minutes apart; returns its journey."""
        c = self.content
        c.personas.setdefault(customer, PERSONAS[customer % len(PERSONAS)])
        journey = next(self.ids) if journey is None else journey
        session = next(self.ids)
        minute = self.clock.get((customer, day), 7 * 60.0)
        for event, extra in events:
            own = next(self.ids) if event in ("message_sent", "order_ready") else session
            c.events.append(
                Ev(
                    self.at(day, minute),
                    customer,
                    c.personas[customer],
                    channel,
                    event,
                    own,
                    journey,
                    **extra,
                )
            )
            minute += 2
        self.clock[(customer, day)] = minute + 1
        return journey

    def finish(self, out: Path, name: str = "built") -> Path:
        """Write the run, with one journey row per journey id seen."""
        c = self.content
        by_journey: dict[int, list[Ev]] = {}
        for e in c.events:
            by_journey.setdefault(e.journey, []).append(e)
        c.journeys = [
            Jr(
                j,
                rows[0].customer,
                rows[0].persona,
                min(e.ts_ms for e in rows),
                max(e.ts_ms for e in rows),
                sorted({e.channel for e in rows}),
                "bought" if any(e.event == "purchase" for e in rows) else "abandoned",
                sum(max(e.amount, 0) for e in rows if e.event == "purchase"),
            )
            for j, rows in by_journey.items()
        ]
        return write_run(out, c, name=name)


BUY = ("purchase", {"amount": 5_000, "quantity": 1})


def web(cart: bool, buy: bool, collect: bool = False) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = [("session_start", {}), ("page_view", {})]
    if cart:
        steps.append(("cart_add", {"quantity": 1}))
    if buy:
        steps += [
            ("checkout", {}),
            ("purchase", {"amount": 5_000, "quantity": 1, "store": 0 if collect else -1}),
        ]
    return [*steps, ("session_end", {})]


def store(buy: bool, stockout: bool = False, pickup: bool = False) -> list[tuple[str, dict[str, Any]]]:
    inside: list[tuple[str, dict[str, Any]]] = []
    if stockout:
        inside.append(("stock_out", {"amount": 3_000}))
    elif buy:
        inside.append(BUY)
    if pickup:
        inside.append(("pickup", {}))
    return [("store_enter", {}), *inside, ("store_exit", {})]


def call(answered_after_s: float | None) -> list[tuple[str, dict[str, Any]]]:
    if answered_after_s is None:
        return [("call_queued", {}), ("call_abandoned", {"wait_s": 90.0})]
    return [("call_queued", {}), ("call_answered", {"wait_s": answered_after_s}), ("call_end", {})]


def calibrated_day(out: Path, *, own_site_orders: int = 50) -> Path:
    """A Tuesday of 3,000 customers (100 active) whose checkable figures are inside their ranges.

    own-site sessions 2,000, with ``own_site_orders`` purchases (2.5% by default), four carts per order
    (75% abandoned), 30% of orders collected in store; store visits 400, 160 buying
    (40%), 8 stock-outs; 200 calls, 10 abandoned (5%), 165 answered within 20 s (82.5%); 20 email
    campaigns to the 100 active customers: 500 opens (25%), 50 clicks (2.5%), every one after its send.
    """
    b = Builder(inactive=2_900)
    customer = itertools.cycle(range(100))
    collected = round(0.3 * own_site_orders)
    for i in range(2_000):
        steps = web(cart=i < 4 * own_site_orders, buy=i < own_site_orders, collect=i < collected)
        b.session(next(customer), "mobile_web" if i % 2 else "desktop_web", steps)
    for i in range(400):
        b.session(next(customer), "store", store(buy=i < 160, stockout=160 <= i < 168))
    for i in range(200):
        wait = None if i < 10 else (5.0 if i < 175 else 60.0)
        b.session(next(customer), "phone", call(wait))
    for campaign in range(20):
        for c in range(100):
            k = campaign * 100 + c
            steps = [("message_sent", {"campaign": campaign})]
            if k % 4 == 0:
                steps.append(("message_opened", {"campaign": campaign}))
                if k % 40 == 0:
                    steps.append(("message_clicked", {"campaign": campaign}))
            b.session(c, "email", steps)
    return b.finish(out, "calibrated")
