"""The behaviour-free baseline: a plain SimPy loop over the same file shape as a parcours day.

About 5% of the file acts (as in the calibrated omnichannel day); each acting customer is one SimPy
process with 1-3 sessions of 2-9 events, one ``env.timeout`` per event; a session on the phone first
waits for an agent (a ``simpy.Resource``: the one queue). Events go to Parquet with the project's event
schema (``output.schema.event_batch``, the same background ``ParquetSink`` parcours uses), in batches;
the acting customers go to a customers part with the project's customer schema. No behaviour: no
personas' rates, stock, staffing, identity or journeys; every draw is made ahead in bulk with NumPy (a
competent loop, not a strawman). It is what any SimPy generator of this output pays at least.

    python benchmarks/bare_simpy.py --customers 1000000 --out /tmp/bare
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import simpy

from parcours.output.rundir import ParquetSink
from parcours.output.schema import CUSTOMER_SCHEMA, EVENT_SCHEMA, dictionary, event_batch
from parcours.vocabulary import Channel, EventType

ACTING = 0.05  # share of the file with an event on the day (calibrated omnichannel weekday: 4.7%)
PHONE_SHARE = 0.05  # sessions that are calls, queued for an agent
CUSTOMERS_PER_AGENT = 20_000
DAY_S = 86_400.0
BATCH_ROWS = 65_536
PERSONAS = [f"persona_{k}" for k in range(8)]
CHANNELS = list(Channel)
EVENT_TYPES = list(EventType)
PHONE = CHANNELS.index(Channel.PHONE)
# what a session's events are, in order: opener, looks, closer
OPEN, LOOK, CLOSE = (
    EVENT_TYPES.index(e) for e in (EventType.SESSION_START, EventType.PAGE_VIEW, EventType.SESSION_END)
)
CALL_OPEN, CALL_CLOSE = (EVENT_TYPES.index(e) for e in (EventType.CALL_QUEUED, EventType.CALL_END))


class Day:
    """The loop's state: the environment, the phone desk, the rows waiting to be written."""

    def __init__(self, customers: int, sink: ParquetSink) -> None:
        self.env = simpy.Environment()
        self.phone = simpy.Resource(self.env, max(1, customers // CUSTOMERS_PER_AGENT))
        self.sink = sink
        self.rows: list[tuple[int, int, int, int, int, int]] = []
        self.written = 0

    def emit(self, customer: int, persona: int, channel: int, etype: int, session: int) -> None:
        self.rows.append((int(self.env.now * 1000.0), customer, persona, channel, etype, session))
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = np.array(self.rows, dtype=np.int64)
        self.rows = []
        n = len(table)
        seq = np.arange(self.written, self.written + n, dtype=np.int64)
        self.written += n
        customer = table[:, 1]
        cols: dict[str, Any] = {
            "event_id": seq,
            "seq": seq,
            "ts": table[:, 0],
            "customer_id": customer,
            "visible_id": pc.binary_join_element_wise(
                "device-", pc.cast(pa.array(customer), pa.string()), ""
            ),
            "persona": table[:, 2].astype(np.int8),
            "channel": table[:, 3].astype(np.int8),
            "event_type": table[:, 4].astype(np.int8),
            "session_id": table[:, 5],
            "journey_id": table[:, 5] >> 2,
            "product_id": np.full(n, -1, np.int64),
            "store_id": np.full(n, -1, np.int32),
            "campaign_id": np.full(n, -1, np.int32),
            "quantity": np.full(n, -1, np.int32),
            "amount_cents": np.full(n, -1, np.int64),
            "wait_s": np.full(n, np.nan, np.float32),
            "shard": np.zeros(n, np.int32),
        }
        self.sink.write(event_batch(cols, PERSONAS))


def customer(
    day: Day, cid: int, persona: int, start_s: float, sessions: list[tuple[int, list[float], float]]
) -> Generator[simpy.Event, Any, None]:
    """One acting customer: sessions one after the other, one timeout per event."""
    env = day.env
    yield env.timeout(start_s)
    for k, (channel, dwell, gap) in enumerate(sessions):
        session = (cid << 2) | k
        if channel == PHONE:
            with day.phone.request() as request:
                day.emit(cid, persona, channel, CALL_OPEN, session)
                yield request
                for d in dwell:
                    yield env.timeout(d)
                day.emit(cid, persona, channel, CALL_CLOSE, session)
        else:
            day.emit(cid, persona, channel, OPEN, session)
            for d in dwell[:-1]:
                yield env.timeout(d)
                day.emit(cid, persona, channel, LOOK, session)
            yield env.timeout(dwell[-1])
            day.emit(cid, persona, channel, CLOSE, session)
        yield env.timeout(gap)


def run(customers: int, seed: int, out: Path) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    ids = np.flatnonzero(rng.random(customers) < ACTING)
    persona = rng.integers(0, len(PERSONAS), len(ids))
    n_sessions = rng.integers(1, 4, len(ids))
    total = int(n_sessions.sum())
    channel = np.where(rng.random(total) < PHONE_SHARE, PHONE, rng.integers(0, PHONE, total))
    n_events = rng.integers(2, 10, total)
    dwell = rng.exponential(40.0, int(n_events.sum())).tolist()
    gaps = rng.exponential(3600.0, total).tolist()
    starts = (rng.random(len(ids)) * DAY_S * 0.7).tolist()
    out.mkdir(parents=True, exist_ok=True)
    with ParquetSink(out / "events.parquet", EVENT_SCHEMA, background=True) as sink:
        day = Day(customers, sink)
        e = s = 0
        for i, cid in enumerate(ids.tolist()):
            plan = []
            for _ in range(int(n_sessions[i])):
                k = int(n_events[s]) - 1  # the opener has no dwell before it
                plan.append((int(channel[s]), dwell[e : e + k], gaps[s]))
                e += k
                s += 1
            day.env.process(customer(day, cid, int(persona[i]), starts[i], plan))
        day.env.run()
        day.flush()
    _write_customers(ids, persona, out / "customers.parquet")
    return {"customers": customers, "acting": len(ids), "events": day.written}


def _write_customers(ids: np.ndarray, persona: np.ndarray, path: Path) -> None:
    """The acting customers, with the project's customer schema (an account and two device ids each)."""
    n = len(ids)
    account = pc.binary_join_element_wise("acct-", pc.cast(pa.array(ids), pa.string()), "")
    devices = pc.binary_join_element_wise("device-", pc.cast(pa.array(np.repeat(ids, 2)), pa.string()), "")
    two = pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32))
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "persona": dictionary(persona.astype(np.int8), pa.array(PERSONAS, pa.string())),
            "home_store_id": pa.array((ids // 2000).astype(np.int32)),
            "account_id": account,
            "channels": pa.ListArray.from_arrays(two, pa.array(["mobile_web", "store"] * n, pa.string())),
            "opt_ins": pa.ListArray.from_arrays(
                pa.array(np.arange(n + 1, dtype=np.int32)), pa.array(["email"] * n, pa.string())
            ),
            "identities": pa.ListArray.from_arrays(two, devices),
            "shard": pa.array(np.zeros(n, np.int32)),
        },
        schema=CUSTOMER_SCHEMA,
    )
    with ParquetSink(path, CUSTOMER_SCHEMA) as sink:
        for batch in table.to_batches(max_chunksize=262_144):
            sink.write(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    began = time.perf_counter()
    counts = run(args.customers, args.seed, args.out)
    print(json.dumps(counts | {"wall_s": round(time.perf_counter() - began, 3)}))


if __name__ == "__main__":
    main()
