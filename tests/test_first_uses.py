"""The journeys part lists each journey's channels in the order it first used them: ``first_uses``
checked against what it replaced (a stable sort by journey, then ``np.unique`` of (journey, channel)
pairs by first index), on openings with many repeats, and on journey rows too wide for its packed key."""

from __future__ import annotations

import numpy as np
import pytest

from parcours.simulator.run.shard import first_uses


def by_unique(jrow: np.ndarray, channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(jrow, kind="stable")
    jrow, channel = jrow[order], channel.astype(np.int64)[order]
    _, first_use = np.unique(jrow * 64 + channel, return_index=True)
    first_use.sort()
    return jrow[first_use], channel[first_use]


@pytest.mark.parametrize(("seed", "journeys", "offset"), [(1, 50, 0), (2, 5000, 0), (3, 40, 2**56)])
def test_each_journeys_channels_come_in_order_of_first_use(seed: int, journeys: int, offset: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1000, 20000))
    jrow = rng.integers(0, journeys, n).astype(np.int64) + offset
    channel = rng.integers(0, 13, n).astype(np.int8)
    rows, channels = first_uses(jrow, channel)
    expected_rows, expected_channels = by_unique(jrow, channel)
    assert rows.tolist() == expected_rows.tolist()
    assert channels.tolist() == expected_channels.tolist()
    assert len(rows) < n  # there were repeats to drop


def test_no_openings_give_no_channels() -> None:
    rows, channels = first_uses(np.zeros(0, np.int64), np.zeros(0, np.int8))
    assert len(rows) == len(channels) == 0
