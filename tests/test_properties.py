"""Properties over any event table (hypothesis draws them): writing then reading a run is the identity,
and the replay's shares hold every event once, each customer whole and in order.

Tables are drawn freely: any row count (none included), timestamps with ties and gaps, customers spread
over any number of parts, nulls anywhere a column allows them, row groups of any size.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.output.reader import Run
from parcours.output.rundir import ParquetSink, RunWriter
from parcours.output.schema import (
    CHANNEL_VALUES,
    EVENT_SCHEMA,
    EVENT_TYPE_VALUES,
    event_batch,
)
from parcours.vocabulary import EventType
from tests.support import made_manifest, write_empty_truth
from tests.test_replay_schedule import Share, _replayed

PERSONAS = ["young", "traditional", "office_worker"]
T0_MS = 1_732_442_400_000


@st.composite
def tables(draw: Any) -> tuple[dict[str, np.ndarray], int]:
    """Event columns (as event_batch takes them) of any length, and a part count."""
    n = draw(st.integers(0, 200))
    parts = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    customers = draw(st.integers(1, 40))
    spread_ms = draw(st.sampled_from([0, 1, 1000, 86_400_000]))  # 0: every event at the same instant

    def nullable(high: int) -> np.ndarray:
        values = rng.integers(0, high, n).astype(np.int64)
        values[rng.random(n) < draw(st.sampled_from([0.0, 0.5, 1.0]))] = -1
        return values

    columns = {
        "event_id": rng.permutation(n).astype(np.int64) + 7,
        "seq": np.zeros(n, np.int64),
        "ts": T0_MS + rng.integers(0, spread_ms + 1, n).astype(np.int64),
        "customer_id": rng.integers(0, customers, n).astype(np.int64),
        "visible_id": pa.array([f"v{i}" if i % 3 else "" for i in rng.integers(0, 50, n)]),
        "persona": rng.integers(0, len(PERSONAS), n).astype(np.int8),
        "channel": rng.integers(0, len(CHANNEL_VALUES), n).astype(np.int8),
        "event_type": rng.integers(0, len(EVENT_TYPE_VALUES), n).astype(np.int8),
        "session_id": rng.integers(0, 1 << 40, n).astype(np.int64),
        "journey_id": rng.integers(-5, 1 << 40, n).astype(np.int64),
        "product_id": nullable(1000),
        "store_id": nullable(30),
        "campaign_id": nullable(5),
        "quantity": nullable(9),
        "amount_cents": nullable(10**9),
        "wait_s": np.where(rng.random(n) < 0.5, np.nan, rng.random(n) * 600),
        "shard": np.zeros(n, np.int32),
    }
    columns["seq"] = columns["event_id"]  # unique, as in a run: ties in ts are broken by seq
    return columns, parts


def _take(columns: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    return {
        k: (v.take(pa.array(rows, pa.int64())) if isinstance(v, pa.Array) else v[rows])
        for k, v in columns.items()
    }


def write_run(
    out: Path, columns: dict[str, Any], parts: int, row_group_rows: int, background: bool
) -> list[pa.Table]:
    """A run of ``parts`` parts, customers dealt by id, each part sorted by (ts, seq); the parts written."""
    writer = RunWriter(out)
    written, counts = [], []
    for p in range(parts):
        rows = np.flatnonzero(columns["customer_id"] % parts == p)
        rows = rows[np.lexsort((columns["seq"][rows], columns["ts"][rows]))]
        part = _take(columns, rows)
        part["shard"] = np.full(len(rows), p, np.int32)
        batch = event_batch(part, PERSONAS)
        with ParquetSink(writer.events_part(p), EVENT_SCHEMA, row_group_rows, background=background) as sink:
            for start in range(0, batch.num_rows, 17):  # written in small batches, as a shard does
                sink.write(batch.slice(start, 17))
        written.append(pa.Table.from_batches([batch], schema=EVENT_SCHEMA))
        counts.append(batch.num_rows)
    write_empty_truth(writer, parts)
    ts = np.asarray(columns["ts"])
    first, last = (int(ts.min()), int(ts.max())) if len(ts) else (T0_MS, T0_MS)
    writer.finish(made_manifest(out, events_per_shard=counts, first_ms=first, last_ms=last))
    return written


def _plain(table: pa.Table) -> dict[str, list[Any]]:
    """Column values as Python lists (dictionary columns decoded), NaN made comparable."""
    out = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        out[name] = ["NaN" if isinstance(v, float) and v != v else v for v in values]
    return out


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(table=tables(), row_group_rows=st.sampled_from([1, 7, 64, 262_144]), background=st.booleans())
def test_writing_then_reading_a_run_is_the_identity(
    tmp_path_factory: pytest.TempPathFactory,
    table: tuple[dict[str, Any], int],
    row_group_rows: int,
    background: bool,
) -> None:
    columns, parts = table
    out = tmp_path_factory.mktemp("run") / "run"
    written = write_run(out, columns, parts, row_group_rows, background)
    run = Run(out)
    assert run.events().schema.remove_metadata().equals(EVENT_SCHEMA.remove_metadata())
    expected = pa.concat_tables(written)
    assert _plain(run.events()) == _plain(expected)  # every row, every value, the parts in shard order
    streamed = pa.Table.from_batches(list(run.iter_event_batches()), schema=run.events().schema)
    assert _plain(streamed) == _plain(expected)


@SETTINGS
@given(table=tables(), workers=st.integers(1, 3))
def test_the_replay_schedule_keeps_every_event_and_each_customer_in_order(
    tmp_path_factory: pytest.TempPathFactory, table: tuple[dict[str, Any], int], workers: int
) -> None:
    columns, parts = table
    columns["event_type"] = np.full(len(columns["ts"]), list(EventType).index(EventType.PAGE_VIEW), np.int8)
    out = tmp_path_factory.mktemp("run") / "run"
    write_run(out, columns, parts, 64, False)
    run = Run(out)
    seen: Counter[int] = Counter()
    owner: dict[int, int] = {}
    customer_of = dict(zip(columns["event_id"].tolist(), columns["customer_id"].tolist(), strict=True))
    order = {
        e: (t, s)
        for e, t, s in zip(
            columns["event_id"].tolist(), columns["ts"].tolist(), columns["seq"].tolist(), strict=True
        )
    }
    for index in range(workers):
        rows = _replayed(run, Share(workers, index)) if len(order) else []
        for customer, event_id, _ in rows:
            seen[event_id] += 1
            assert customer_of[event_id] == customer
            assert owner.setdefault(customer, index) == index  # a customer never spans two workers
        for customer in {c for c, _, _ in rows}:
            mine = [e for c, e, _ in rows if c == customer]
            assert mine == sorted(mine, key=order.__getitem__)  # in the customer's order
    assert seen == Counter(list(order))  # every event, once
