"""The event buffer releases every event once, behind the clock, in (time, creation) order: checked
against a plain sort of everything added, with ties in time, single rows between chunks, events
written hours ahead, and spans too long for the combined sort key."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from parcours.simulator.model.buffer import COLUMNS, INT_COLUMNS, EventBuffer


def chunk(rng: np.random.Generator, n: int, start_ms: int, span_ms: int) -> dict[str, np.ndarray]:
    cols = {name: rng.integers(0, 100, n).astype(dtype) for name, dtype in COLUMNS.items()}
    cols["ts_ms"] = start_ms + rng.integers(0, span_ms, n) // 250 * 250  # coarse: many ties
    cols["wait_s"] = rng.random(n).astype(np.float32)
    return cols


@pytest.mark.parametrize(("seed", "span_ms"), [(1, 3_600_000), (2, 6 * 3_600_000), (3, 60 * 86_400_000)])
def test_released_events_are_all_the_events_by_time_then_creation(seed: int, span_ms: int) -> None:
    rng = np.random.default_rng(seed)
    buffer = EventBuffer()
    added: list[tuple[int, int]] = []  # (ts, creation number) of everything added, in creation order
    released: list[np.ndarray] = []
    clock_ms = 0
    for _ in range(12):
        cols = chunk(rng, int(rng.integers(0, 400)), clock_ms, span_ms)
        cols["session"] = np.arange(len(added), len(added) + len(cols["ts_ms"]))  # creation number
        added += [(int(t), int(c)) for t, c in zip(cols["ts_ms"], cols["session"], strict=True)]
        buffer.add(cols)
        for _ in range(int(rng.integers(0, 20))):  # single events from processes, at the clock
            ts = clock_ms + int(rng.integers(0, 5)) * 250
            row = [ts if name == "ts_ms" else len(added) if name == "session" else 1 for name in INT_COLUMNS]
            added.append((ts, len(added)))
            buffer.add_row(tuple(row), 0.5)
        clock_ms += int(rng.integers(1, 4)) * 600_000
        out = buffer.release(clock_ms)
        if out is not None:
            assert (out["ts_ms"] < clock_ms).all()
            released.append(out["session"])
    out = buffer.release(float(clock_ms + 100 * span_ms))
    if out is not None:
        released.append(out["session"])
    expected = [c for _, c in sorted(added)]
    assert np.concatenate(released).tolist() == expected
    assert buffer.pending == 0


def test_single_rows_come_out_as_the_columns_a_chunk_of_them_gives() -> None:
    # single events are packed into bytes as they come: released, each column holds what the same rows
    # added as one chunk give (the column's type, extreme values, a float32 wait and a NaN one)
    rng = np.random.default_rng(7)
    n = 50
    cols = {}
    for name, dtype in COLUMNS.items():
        info = np.iinfo(dtype) if np.dtype(dtype).kind == "i" else None
        low, high = (-1, 2**40) if info is None else (info.min, info.max)
        cols[name] = rng.integers(max(low, -(2**62)), min(high, 2**62), n).astype(dtype)
    cols["ts_ms"] = np.arange(n, dtype=np.int64) * 7
    cols["wait_s"] = rng.random(n).astype(np.float64) * 1000
    cols["wait_s"][::5] = np.nan
    rows, chunked = EventBuffer(), EventBuffer()
    chunked.add(cols)
    for i in range(n):
        rows.add_row(tuple(int(cols[name][i]) for name in INT_COLUMNS), float(cols["wait_s"][i]))
    a, b = rows.release(10**6), chunked.release(10**6)
    assert a is not None and b is not None
    for name in COLUMNS:
        assert a[name].dtype == b[name].dtype == np.dtype(COLUMNS[name]), name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_single_row_value_out_of_its_columns_range_is_refused() -> None:
    row = [0] * len(INT_COLUMNS)
    row[INT_COLUMNS.index("channel")] = 300  # an int8 column
    with pytest.raises(struct.error):
        EventBuffer().add_row(tuple(row), 0.0)
