"""The event buffer releases every event once, behind the clock, in (time, creation) order: checked
against a plain sort of everything added, with ties in time, single rows between chunks, events
written hours ahead, and spans too long for the combined sort key."""

from __future__ import annotations

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
