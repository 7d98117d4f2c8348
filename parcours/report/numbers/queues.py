"""Queues (call centre, chat, store staff) and store traffic over the day, in local time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.report.columns.events import DAY_MS, HOUR_MS, Events, Vocab
from parcours.report.columns.scan import QUARTERS
from parcours.vocabulary import EventType

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class QueueStats:
    """People who waited for a person: answered or given up, by local hour of arrival (per day)."""

    answered: np.ndarray  # [24] per day
    abandoned: np.ndarray  # [24] per day
    wait_s: np.ndarray  # [len(PERCENTILES), 24], NaN where nobody waited that hour
    waits: np.ndarray  # every wait, answered or abandoned, seconds

    @property
    def total(self) -> int:
        return len(self.waits)

    def abandonment(self) -> float:
        return float(self.abandoned.sum() / max(self.answered.sum() + self.abandoned.sum(), 1e-12))


def _arrival_hour(rows: Events) -> np.ndarray:
    """Waits are stamped when they end; the customer arrived ``wait_s`` earlier."""
    arrived = rows.local_ms - np.nan_to_num(rows.wait_s * 1000).astype(np.int64)
    return np.asarray((arrived % DAY_MS) // HOUR_MS)


def _percentiles_by_hour(hour: np.ndarray, wait: np.ndarray) -> np.ndarray:
    out = np.full((len(PERCENTILES), 24), np.nan)
    for h in np.unique(hour):
        out[:, h] = np.percentile(wait[hour == h], PERCENTILES)
    return out


def queue(
    picked: Events, vocab: Vocab, days: int, answered: EventType, gave_up: EventType | None
) -> QueueStats:
    codes = [vocab.events.code(answered.value)] + ([vocab.events.code(gave_up.value)] if gave_up else [])
    rows = picked.where(np.isin(picked.event, codes) & ~np.isnan(picked.wait_s))
    hour = _arrival_hour(rows)
    is_answer = rows.event == codes[0]
    return QueueStats(
        answered=np.bincount(hour[is_answer], minlength=24) / days,
        abandoned=np.bincount(hour[~is_answer], minlength=24) / days,
        wait_s=_percentiles_by_hour(hour, rows.wait_s),
        waits=rows.wait_s,
    )


@dataclass(frozen=True)
class StoreStats:
    visits: np.ndarray  # [persona, 24] store entries per day
    occupancy: np.ndarray  # [96] people in stores at each quarter-hour, mean day
    assist: QueueStats  # waiting for a member of staff: helped (staff_assist) or gave up (assist_abandoned)


def occupancy(net: np.ndarray, quiet_quarter: int = 16) -> np.ndarray:
    """People inside at each quarter-hour from entries minus exits per quarter-hour.

    The running sum starts at 04:00, when stores are shut, so a visit that spans midnight is counted
    where it happens instead of pushing the early hours below zero.
    """
    rolled = np.cumsum(np.roll(net, -quiet_quarter))
    return np.asarray(np.maximum(np.roll(rolled, quiet_quarter), 0))


def stores(cube: np.ndarray, picked: Events, vocab: Vocab, days: int) -> StoreStats:
    store = vocab.channels.code("store")
    enter = cube[:, vocab.events.code(EventType.STORE_ENTER.value), store].sum(axis=0)  # [persona, quarter]
    leave = cube[:, vocab.events.code(EventType.STORE_EXIT.value), store].sum(axis=0)
    visits = enter.reshape(len(vocab.personas), 24, QUARTERS // 24).sum(axis=2) / days
    return StoreStats(
        visits=visits,
        occupancy=occupancy(enter.sum(axis=0) - leave.sum(axis=0)) / days,
        assist=queue(picked, vocab, days, EventType.STAFF_ASSIST, EventType.ASSIST_ABANDONED),
    )
