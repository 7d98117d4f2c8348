"""Small run directories with known contents, written with the real writer, for the report tests.

``random_run`` draws a few hundred customers whose days look like the simulator's (sessions on
several channels, carts, purchases, stock-outs, calls that are answered or abandoned, store visits)
and keeps every row as plain Python objects, so tests can compute the expected figures with loops
and sets, independently of the report's NumPy code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from parcours.output.manifest import Manifest
from parcours.output.rundir import CUSTOMERS, JOURNEYS, ParquetSink, RunWriter
from parcours.output.schema import (
    CHANNEL_CODE,
    CUSTOMER_SCHEMA,
    EVENT_CODE,
    EVENT_SCHEMA,
    JOURNEY_SCHEMA,
    event_batch,
)
from parcours.vocabulary import Channel, EventType
from tests.support import made_manifest

PERSONAS = ["ultra_connected", "traditional", "young", "office_worker"]
DIGITAL = ["mobile_app", "mobile_web", "desktop_web", "tablet", "marketplace", "social"]
TZ = "Europe/Paris"


@dataclass
class Ev:
    ts_ms: int
    customer: int
    persona: str
    channel: str
    event: str
    session: int
    journey: int
    amount: int = -1
    quantity: int = -1
    wait_s: float = math.nan
    store: int = -1
    campaign: int = -1


@dataclass
class Jr:
    journey: int
    customer: int
    persona: str
    start_ms: int
    end_ms: int
    channels: list[str]
    outcome: str
    revenue: int


@dataclass
class Content:
    personas: dict[int, str] = field(default_factory=dict)  # customer -> persona
    events: list[Ev] = field(default_factory=list)
    journeys: list[Jr] = field(default_factory=list)
    start: dt.date = dt.date(2026, 11, 24)
    days: int = 1
    scenario: dict[str, Any] = field(default_factory=dict)  # merged into the manifest's scenario
    inactive: int = 0  # customers in the file with no event at all, after those in ``personas``

    def local(self, ts_ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).astimezone(ZoneInfo(TZ))


def _event_table(events: list[Ev]) -> pa.RecordBatch:
    events = sorted(events, key=lambda e: e.ts_ms)
    col = lambda name: np.array([getattr(e, name) for e in events])  # noqa: E731
    n = len(events)
    return event_batch(
        {
            "event_id": np.arange(n, dtype=np.int64),
            "seq": np.arange(n, dtype=np.int64),
            "ts": col("ts_ms").astype(np.int64),
            "customer_id": col("customer").astype(np.int64),
            "visible_id": pa.array([f"v{e.customer}" for e in events], pa.string()),
            "persona": np.array([PERSONAS.index(e.persona) for e in events], np.int8),
            "channel": np.array([CHANNEL_CODE[Channel(e.channel)] for e in events], np.int8),
            "event_type": np.array([EVENT_CODE[EventType(e.event)] for e in events], np.int8),
            "session_id": col("session").astype(np.int64),
            "journey_id": col("journey").astype(np.int64),
            "product_id": np.full(n, -1, np.int64),
            "store_id": col("store").astype(np.int32),
            "campaign_id": col("campaign").astype(np.int32),
            "quantity": col("quantity").astype(np.int32),
            "amount_cents": col("amount").astype(np.int64),
            "wait_s": col("wait_s").astype(np.float32),
            "shard": np.zeros(n, np.int32),
        },
        PERSONAS,
    )


def _customer_table(c: Content) -> pa.Table:
    personas = {**c.personas}
    first = max(personas, default=-1) + 1
    personas.update({first + i: PERSONAS[i % len(PERSONAS)] for i in range(c.inactive)})
    ids = sorted(personas)
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "persona": pa.array([personas[i] for i in ids])
            .dictionary_encode()
            .cast(CUSTOMER_SCHEMA.field("persona").type),
            "home_store_id": pa.array([0] * len(ids), pa.int32()),
            "account_id": pa.array([f"a{i}" for i in ids]),
            "channels": pa.array([[]] * len(ids), pa.list_(pa.string())),
            "opt_ins": pa.array([[]] * len(ids), pa.list_(pa.string())),
            "identities": pa.array([[f"v{i}"] for i in ids], pa.list_(pa.string())),
            "shard": pa.array([0] * len(ids), pa.int32()),
        },
        schema=CUSTOMER_SCHEMA,
    )


def _journey_table(c: Content) -> pa.Table:
    js = c.journeys
    dict_type = JOURNEY_SCHEMA.field("persona").type
    return pa.table(
        {
            "journey_id": pa.array([j.journey for j in js], pa.int64()),
            "customer_id": pa.array([j.customer for j in js], pa.int64()),
            "persona": pa.array([j.persona for j in js], pa.string()).dictionary_encode().cast(dict_type),
            "start": pa.array([j.start_ms for j in js], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "end": pa.array([j.end_ms for j in js], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "channels": pa.array([j.channels for j in js], pa.list_(pa.string())),
            "outcome": pa.array([j.outcome for j in js], pa.string()).dictionary_encode().cast(dict_type),
            "revenue_cents": pa.array([j.revenue for j in js], pa.int64()),
            "shard": pa.array([0] * len(js), pa.int32()),
        },
        schema=JOURNEY_SCHEMA,
    )


def write_run(
    out: Path, c: Content, *, shards: int = 2, row_group_rows: int = 64, name: str = "test"
) -> Path:
    """Write ``c`` as a finished run: customers dealt to shards by id, small row groups on purpose."""
    with RunWriter(out) as writer:
        for shard in range(shards):
            mine = [e for e in c.events if e.customer % shards == shard]
            with ParquetSink(writer.events_part(shard), EVENT_SCHEMA, row_group_rows) as sink:
                batch = _event_table(mine)
                for start in range(0, batch.num_rows, 37):  # batches that cut through sessions
                    sink.write(batch.slice(start, 37))
        with ParquetSink(writer.path(CUSTOMERS), CUSTOMER_SCHEMA) as sink:
            sink.write(_customer_table(c).to_batches()[0])
        with ParquetSink(writer.path(JOURNEYS), JOURNEY_SCHEMA) as sink:
            for b in _journey_table(c).to_batches():
                sink.write(b)
        return writer.finish(manifest(c, shards, name, out))


def manifest(c: Content, shards: int, name: str, out: Path) -> Manifest:
    ts = [e.ts_ms for e in c.events] or [
        int(dt.datetime.combine(c.start, dt.time(), ZoneInfo(TZ)).timestamp() * 1000)
    ]
    per_shard = [sum(1 for e in c.events if e.customer % shards == s) for s in range(shards)]
    return made_manifest(
        out,
        events_per_shard=per_shard,
        first_ms=min(ts),
        last_ms=max(ts),
        timezone=TZ,
        customers=len(c.personas) + c.inactive,
        listed=_customer_table(c).num_rows,
        journeys=len(c.journeys),
        personas=PERSONAS,
        scenario={"name": name, "integration": "omnichannel", **c.scenario},
        calendar=(c.start, c.days),
    )


class _Maker:
    """Draws one customer's journeys, session by session, event by event."""

    def __init__(self, rng: np.random.Generator, c: Content) -> None:
        self.rng, self.c = rng, c
        self.ids = itertools.count(1)

    def at(self, day: int, minute: float) -> int:
        date = self.c.start + dt.timedelta(days=day)
        local = dt.datetime(date.year, date.month, date.day, tzinfo=ZoneInfo(TZ)) + dt.timedelta(
            minutes=minute
        )
        return int(local.timestamp() * 1000)

    def journey(self, customer: int, persona: str, day: int) -> None:
        rng, journey = self.rng, next(self.ids)
        minute = float(rng.uniform(6 * 60, 22 * 60))
        kinds = list(rng.choice([*DIGITAL, "store", "phone", "chat", "kiosk", "email"], rng.integers(1, 4)))
        rows: list[Ev] = []
        channels: list[str] = []
        for kind in kinds:
            made = self.session(str(kind), customer, persona, journey, day, minute)
            rows += made
            channels += [str(kind)] if kind != "email" else ["email"]
            minute += float(rng.uniform(5, 120))
        self.c.events += rows
        types = [r.event for r in rows]
        bought = [r.amount for r in rows if r.event == "purchase"]
        refunds = [r.amount for r in rows if r.event == "return"]
        if bought:
            outcome = "returned" if refunds else "bought"
        elif "stock_out" in types:
            outcome = "lost_to_stockout" if rng.random() < 0.7 else "abandoned"
        elif set(kinds) <= {"phone", "chat"}:
            outcome = "service"
        else:
            outcome = "abandoned"
        ts = [r.ts_ms for r in rows]
        self.c.journeys.append(
            Jr(journey, customer, persona, min(ts), max(ts), channels, outcome, sum(bought) - sum(refunds))
        )

    def session(
        self, kind: str, customer: int, persona: str, journey: int, day: int, minute: float
    ) -> list[Ev]:
        rng, session = self.rng, next(self.ids)
        steps = SESSIONS[kind](rng)
        rows = []
        for event, extra in steps:
            own = next(self.ids) if event in ("message_sent", "order_ready") else session
            channel = "sms" if event == "order_ready" else kind
            rows.append(Ev(self.at(day, minute), customer, persona, channel, event, own, journey, **extra))
            minute += float(rng.uniform(0.5, 6))
        return rows


Step = tuple[str, dict[str, Any]]


def _buy(rng: np.random.Generator) -> Step:
    return ("purchase", {"amount": int(rng.integers(500, 20_000)), "quantity": int(rng.integers(1, 4))})


def _digital(rng: np.random.Generator) -> list[Step]:
    steps: list[Step] = [("session_start", {})] + [("page_view", {})] * int(rng.integers(1, 4))
    if rng.random() < 0.5:
        steps.append(("cart_add", {"quantity": 1}))
        if rng.random() < 0.5:
            event, extra = _buy(rng)
            if rng.random() < 0.1:
                extra["store"] = 0  # collected in store, marked on the purchase
            steps += [("checkout", {}), (event, extra)] + (
                [("order_ready", {})] if rng.random() < 0.3 else []
            )
    return [*steps, ("session_end", {})]


def _store(rng: np.random.Generator) -> list[Step]:
    steps: list[Step] = [("store_enter", {})]
    if rng.random() < 0.4:
        gave_up = rng.random() < 0.2
        steps.append(
            ("assist_abandoned" if gave_up else "staff_assist", {"wait_s": float(rng.integers(0, 600))})
        )
    if rng.random() < 0.3:
        steps.append(("stock_out", {"amount": int(rng.integers(500, 9_000))}))
        if rng.random() < 0.3:
            steps.append(_buy(rng))  # held from another store: the same attempt
    elif rng.random() < 0.5:
        steps.append(_buy(rng))
    if rng.random() < 0.15:
        steps.append(("return", {"amount": int(rng.integers(100, 400))}))
    if rng.random() < 0.15:
        steps.append(("pickup", {}))
    return [*steps, ("store_exit", {})]


def _queue(prefix: str) -> Any:
    def steps(rng: np.random.Generator) -> list[Step]:
        wait = {"wait_s": float(rng.integers(0, 900))}
        if rng.random() < 0.7:
            return [(f"{prefix}_queued", {}), (f"{prefix}_answered", wait), (f"{prefix}_end", {})]
        return [(f"{prefix}_queued", {}), (f"{prefix}_abandoned", wait)]

    return steps


def _kiosk(rng: np.random.Generator) -> list[Step]:
    return [("session_start", {}), ("kiosk_order", {}), *([_buy(rng)] if rng.random() < 0.8 else [])]


def _email(rng: np.random.Generator) -> list[Step]:
    campaign = {"campaign": int(rng.integers(0, 3))}
    opened = [("message_opened", campaign), ("message_clicked", campaign)] if rng.random() < 0.6 else []
    return [("message_sent", campaign), *opened]


SESSIONS: dict[str, Any] = {
    **{d: _digital for d in DIGITAL},
    "store": _store,
    "phone": _queue("call"),
    "chat": _queue("chat"),
    "kiosk": _kiosk,
    "email": _email,
}


def random_content(
    seed: int = 1, customers: int = 150, days: int = 1, start: dt.date = dt.date(2026, 11, 24)
) -> Content:
    """Customers with 0-3 journeys a day, each on 1-3 sessions of random channels."""
    rng = np.random.default_rng(seed)
    c = Content(start=start, days=days)
    maker = _Maker(rng, c)
    for customer in range(customers):
        persona = PERSONAS[int(rng.integers(len(PERSONAS)))]
        c.personas[customer] = persona
        for day in range(days):
            for _ in range(int(rng.integers(0, 4))):
                maker.journey(customer, persona, day)
    return c
