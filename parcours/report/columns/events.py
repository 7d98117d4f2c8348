"""Events read row group by row group as NumPy columns, with local time and run-wide codes.

Only the columns the figures need are read, one row group at a time, so memory follows the row group
size, not the run size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.output.manifest import Manifest
from parcours.output.reader import Run
from parcours.report.columns.codes import Codes, channel_codes, event_codes, persona_codes

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
COLUMNS = (
    "ts",
    "customer_id",
    "persona",
    "channel",
    "event_type",
    "session_id",
    "journey_id",
    "amount_cents",
    "quantity",
    "wait_s",
    "store_id",
    "campaign_id",
)


@dataclass(frozen=True)
class Vocab:
    """The run-wide numbering of channels, event types and personas."""

    channels: Codes
    events: Codes
    personas: Codes

    @classmethod
    def for_runs(cls, runs: Sequence[Run]) -> Vocab:
        """One numbering for all ``runs``, so that compared runs line their personas up."""
        found: set[str] = set()
        for run in runs:
            column = run.customers(columns=["persona"])["persona"]
            found.update(str(p) for p in column.unique().to_pylist())
        return cls(channel_codes(), event_codes(), persona_codes(found))


@dataclass(frozen=True)
class Calendar:
    """The run's days in local time: which hour and which day an instant falls on."""

    timezone: str
    first_day: int  # local days since 1970-01-01
    days: int

    @classmethod
    def of(cls, manifest: Manifest) -> Calendar:
        cal = manifest.scenario.calendar
        start = dt.date.fromisoformat(cal.start)
        return cls(cal.timezone, (start - dt.date(1970, 1, 1)).days, cal.days)

    def local_ms(self, ts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Local wall-clock milliseconds since the epoch (DST included) for UTC timestamps."""
        local = pc.local_timestamp(ts.cast(pa.timestamp("ms", tz=self.timezone)))
        return np.asarray(local.cast(pa.int64()).to_numpy(zero_copy_only=False))

    def weekend(self) -> np.ndarray:
        """For each day of the run, whether it is a Saturday or a Sunday."""
        days = np.arange(self.first_day, self.first_day + self.days)
        return (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday (Monday = 0)


@dataclass(frozen=True)
class Events:
    """A slice of the event log: one NumPy array per column, all the same length."""

    ts_ms: np.ndarray
    local_ms: np.ndarray
    customer: np.ndarray
    persona: np.ndarray
    channel: np.ndarray
    event: np.ndarray
    session: np.ndarray
    journey: np.ndarray
    amount_cents: np.ndarray  # -1 where null
    quantity: np.ndarray  # -1 where null
    wait_s: np.ndarray  # NaN where null
    store: np.ndarray  # -1 where null
    campaign: np.ndarray  # -1 where null

    def __len__(self) -> int:
        return len(self.ts_ms)

    def where(self, mask: np.ndarray) -> Events:
        return Events(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def of_type(self, *codes: int) -> Events:
        return self.where(np.isin(self.event, codes))

    @property
    def hour(self) -> np.ndarray:
        return np.asarray((self.local_ms % DAY_MS) // HOUR_MS)

    def day(self, calendar: Calendar) -> np.ndarray:
        """Day index in the run (0 = its first day), clipped to the run's days."""
        return np.asarray(np.clip(self.local_ms // DAY_MS - calendar.first_day, 0, calendar.days - 1))


def concat(parts: list[Events]) -> Events:
    """One slice from several, in order (an empty slice from none)."""
    names = [f.name for f in fields(Events)]
    if not parts:
        return Events(**{n: np.zeros(0, np.float64 if n == "wait_s" else np.int64) for n in names})
    return Events(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


def _filled(column: pa.Array | pa.ChunkedArray, fill: float, dtype: type) -> np.ndarray:
    return np.asarray(column.fill_null(fill).to_numpy(zero_copy_only=False), dtype=dtype)


def to_events(table: pa.Table | pa.RecordBatch, vocab: Vocab, calendar: Calendar) -> Events:
    """NumPy columns of an Arrow slice of the event log."""
    return Events(
        ts_ms=np.asarray(table["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)),
        local_ms=calendar.local_ms(table["ts"]),
        customer=table["customer_id"].to_numpy(),
        persona=vocab.personas.encode(table["persona"]),
        channel=vocab.channels.encode(table["channel"]),
        event=vocab.events.encode(table["event_type"]),
        session=table["session_id"].to_numpy(),
        journey=table["journey_id"].to_numpy(),
        amount_cents=_filled(table["amount_cents"], -1, np.int64),
        quantity=_filled(table["quantity"], -1, np.int64),
        wait_s=_filled(table["wait_s"], np.nan, np.float64),
        store=_filled(table["store_id"], -1, np.int64),
        campaign=_filled(table["campaign_id"], -1, np.int64),
    )


def read_events(run: Run, vocab: Vocab, calendar: Calendar) -> Iterator[Events]:
    """The run's events, a row group at a time, in (ts, seq) order within each part."""
    for batch in run.iter_event_batches(columns=COLUMNS):
        yield to_events(batch, vocab, calendar)
