"""A shard's released events on their way to Parquet, and what the ground truth keeps of them.

The day releases events a slice at a time (a few hundred to a few thousand rows). Turning each slice
into Arrow on its own cost about a millisecond of fixed overhead (a dozen Arrow calls, the identity
strings rendered), which on a 28-day month (4,000 slices) was more than the Parquet encoding itself.
The slices are gathered here and converted once per row group instead, on the sink's thread (the
conversion is mostly Arrow kernels, which release the GIL, so the day goes on meanwhile), then written as
views of the slices they were: the same rows in the same chunks and row groups, so the files do not
change by a byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from parcours.output.rundir import ParquetSink
from parcours.output.schema import EVENT_CODE, event_batch
from parcours.simulator.model.buffer import COLUMNS, Columns
from parcours.simulator.model.identity import render
from parcours.vocabulary import EventType

#: A session's first event, the customer's own doing (not a message the company sent).
SESSION_OPENERS = (
    EventType.SESSION_START,
    EventType.STORE_ENTER,
    EventType.CALL_QUEUED,
    EventType.CHAT_QUEUED,
    EventType.CATALOGUE_READ,
    EventType.MESSAGE_OPENED,
)
_OPENS = np.zeros(128, dtype=bool)  # indexed by event-type code (a non-negative int8)
_OPENS[[EVENT_CODE[e] for e in SESSION_OPENERS]] = True
SEQ_BITS = 40  # event_id = shard << 40 | seq: unique in the run, stable for a seed and shard count
_NEVER = np.iinfo(np.int64)


#: A journey's id holds its customer's id above these bits (plan/intents.py: journey_key); ``Owners``
#: checks it once per shard and looks the customers up where it does not hold.
JOURNEY_KEY_SHIFT = 20


@dataclass(frozen=True)
class Owners:
    """Who an event belongs to, by its journey's row in the shard: the journey's id and its customer's
    persona, and the customer's id (None: the journey id's bits above JOURNEY_KEY_SHIFT), per journey
    row. Two lookups per event, one of them into a table of bytes."""

    journey_id: np.ndarray
    persona: np.ndarray
    customer_id: np.ndarray | None

    @classmethod
    def of_journeys(
        cls,
        journey_id: np.ndarray,
        journey_customer: np.ndarray,
        customer_id: np.ndarray,
        persona: np.ndarray,
    ) -> Owners:
        """From the journeys' ids and customer rows, and the customers' ids and personas (by row)."""
        ids = customer_id[journey_customer]
        keyed = np.array_equal(journey_id >> JOURNEY_KEY_SHIFT, ids)
        return cls(journey_id, persona[journey_customer], None if keyed else ids)

    def of(self, jrow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(customer id, persona, journey id) of events with these journey rows."""
        journey = self.journey_id[jrow]
        customer = journey >> JOURNEY_KEY_SHIFT if self.customer_id is None else self.customer_id[jrow]
        return customer, self.persona[jrow], journey


class ReleasedEvents:
    """Takes the day's released slices (in time order), writes them to ``sink`` a row group at a time,
    and keeps per journey its first and last event time and per session its opening event."""

    def __init__(self, sink: ParquetSink, shard: int, personas: Sequence[str], owners: Owners) -> None:
        self.sink = sink
        self.shard = shard
        self.personas = list(personas)
        self.owners = owners
        journeys = len(owners.journey_id)
        self.start_ms = np.full(journeys, _NEVER.max, dtype=np.int64)
        self.end_ms = np.full(journeys, _NEVER.min, dtype=np.int64)
        self.seq = 0
        self._pending: list[Columns] = []
        self._pending_rows = 0
        self._openings: list[tuple[np.ndarray, np.ndarray]] = []  # (journey row, channel)

    def __call__(self, cols: Columns) -> None:
        """Take one released slice; a row group's worth is handed to the sink."""
        n = len(cols["ts_ms"])
        if n == 0:
            return
        self._pending.append(cols)
        self._pending_rows += n
        if self._pending_rows >= self.sink.row_group_rows:
            self.flush()

    def flush(self) -> None:
        """Hand what is gathered to the sink as one row group, converted to Arrow on the sink's thread
        (its boundaries fall where they did when each slice was written on its own: after the slice
        that fills one)."""
        if not self._pending:
            return
        if len(self._pending) == 1:
            cols = self._pending[0]
        else:
            cols = {name: np.concatenate([c[name] for c in self._pending]) for name in COLUMNS}
        n, first_seq, shard, personas, owners = (
            self._pending_rows,
            self.seq,
            self.shard,
            self.personas,
            self.owners,
        )
        self._pending, self._pending_rows = [], 0
        self.seq += n
        self.sink.write_group(n, lambda: [_to_arrow(cols, owners, first_seq, shard, personas)])
        self._keep(cols)

    def _keep(self, cols: Columns) -> None:
        rows, ts = cols["jrow"], cols["ts_ms"]
        np.maximum.at(self.end_ms, rows, ts)
        np.minimum.at(self.start_ms, rows, ts)
        opens = _OPENS[cols["event_type"]]
        self._openings.append((rows[opens], cols["channel"][opens]))

    def opened(self) -> tuple[np.ndarray, np.ndarray]:
        """Every session's opening event: its journey row and channel, in release (time) order."""
        self.flush()
        if not self._openings:
            return np.zeros(0, np.int64), np.zeros(0, np.int8)
        return (
            np.concatenate([o[0] for o in self._openings]),
            np.concatenate([o[1] for o in self._openings]),
        )

    def span(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first event time per journey, rows of the journeys with an event, last event time)."""
        self.flush()
        has = np.flatnonzero(self.end_ms > _NEVER.min)
        return self.start_ms, has, self.end_ms


def _to_arrow(
    cols: Columns, owners: Owners, first_seq: int, shard: int, personas: list[str]
) -> pa.RecordBatch:
    """The gathered slices as one Arrow batch, their events numbered from ``first_seq``."""
    n = len(cols["ts_ms"])
    customer, persona, journey = owners.of(cols["jrow"])
    seqs = np.arange(first_seq, first_seq + n, dtype=np.int64)
    batch = {
        "event_id": (np.int64(shard) << SEQ_BITS) | seqs,
        "seq": seqs,
        "ts": cols["ts_ms"],
        "customer_id": customer,
        "visible_id": render(cols["id_code"], cols["id_number"]),
        "persona": persona,
        "channel": cols["channel"],
        "event_type": cols["event_type"],
        "session_id": cols["session"],
        "journey_id": journey,
        "product_id": cols["product"],
        "store_id": cols["store"],
        "campaign_id": cols["campaign"],
        "quantity": cols["quantity"],
        "amount_cents": cols["amount"],
        "wait_s": cols["wait_s"],
        "shard": np.full(n, shard, dtype=np.int32),
    }
    return event_batch(batch, personas)
