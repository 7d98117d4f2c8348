"""Events waiting to be written: columnar chunks, released in time order behind the clock.

An event is only ever created at or after the simulated moment it carries, or for a future moment, so
once the clock has passed ``t`` nothing earlier than ``t`` can still arrive: everything before it is
final, sorted and handed to the writer; memory holds only what lies ahead of the clock.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

#: What an event carries to the writer. Its customer, persona and journey are not among them: they are
#: functions of its journey's row (``jrow``), looked up once per row group when the events are written
#: (run/released.py), instead of being carried through every release's sort and copies.
COLUMNS: dict[str, Any] = {
    "ts_ms": np.int64,
    "channel": np.int8,
    "event_type": np.int8,
    "session": np.int64,
    "product": np.int64,
    "store": np.int32,
    "campaign": np.int32,
    "quantity": np.int32,
    "amount": np.int64,
    "wait_s": np.float32,
    "id_code": np.int16,
    "id_number": np.int64,
    "jrow": np.int64,  # the journey's row in the shard (internal: not written)
}
INT_COLUMNS = [name for name in COLUMNS if name != "wait_s"]
_NULLS = {"product": -1, "store": -1, "campaign": -1, "quantity": -1, "amount": -1, "wait_s": np.nan}

Columns = dict[str, np.ndarray]
BUCKET_MS = 3_600_000

#: A single event as packed bytes: its integer columns (INT_COLUMNS order), its wait, its creation
#: number, each at its column's width. Packed as it is added, the rows of a slice are then a NumPy
#: record array as they are (``np.frombuffer``): turning a list of Python tuples into columns cost
#: more than packing them (a 28-day month's 350,000 rows per 200,000 customers: 0.2 s).
_ROW_FIELDS = [*INT_COLUMNS, "wait_s", "gen"]
_ROW_TYPES = [np.dtype(COLUMNS.get(name, np.int64)).newbyteorder("<") for name in _ROW_FIELDS]
_ROW = struct.Struct(
    "<" + "".join({1: "b", 2: "h", 4: "i", 8: "q"}[t.itemsize] if t.kind == "i" else "f" for t in _ROW_TYPES)
)
_ROW_DTYPE = np.dtype(list(zip(_ROW_FIELDS, _ROW_TYPES, strict=True)))


class EventBuffer:
    def __init__(self) -> None:
        self._chunks: list[Columns] = []
        self._rows = bytearray()  # single events, packed (_ROW)
        self._later: dict[int, list[Columns]] = {}  # events written far ahead, by hour they fall in
        self._gen = 0
        self.pending = 0

    def add(self, columns: Columns) -> None:
        """Add a chunk of events; they keep their order among events of the same millisecond."""
        n = len(columns["ts_ms"])
        if n == 0:
            return
        chunk = {name: np.asarray(columns[name], dtype=dtype) for name, dtype in COLUMNS.items()}
        chunk["gen"] = np.arange(self._gen, self._gen + n, dtype=np.int64)
        self._gen += n
        self.pending += n
        self._chunks.append(chunk)

    def add_row(self, ints: tuple[int, ...], wait_s: float) -> None:
        """Add a single event (from a SimPy process), its integer columns in INT_COLUMNS order (each in
        its column's range: a value that does not fit raises ``struct.error``)."""
        self._rows += _ROW.pack(*ints, wait_s, self._gen)
        self._gen += 1
        self.pending += 1

    def _gather(self) -> Columns | None:
        if self._rows:
            single = np.frombuffer(self._rows, dtype=_ROW_DTYPE)
            self._chunks.append({name: single[name] for name in _ROW_FIELDS})
            self._rows = bytearray()
        if not self._chunks:
            return None
        if len(self._chunks) == 1:
            merged = self._chunks[0]
        else:
            merged = {name: np.concatenate([c[name] for c in self._chunks]) for name in self._chunks[0]}
        self._chunks = []
        return merged

    def release(self, before_ms: float) -> Columns | None:
        """Events earlier than ``before_ms``, sorted by (ts, creation order). Of the rest, those due
        within the hour stay at hand; later ones wait in hourly buckets, looked at again only when
        their hour comes (pick-ups and returns are written hours ahead)."""
        hour_now = int(before_ms // BUCKET_MS)
        for hour in [h for h in self._later if h <= hour_now]:
            self._chunks.extend(self._later.pop(hour))
        merged = self._gather()
        if merged is None:
            return None
        # Sorted once, all of it, each column taken once in that order: what is due is then the first
        # rows (it is what comes first in time), and what stays the others.
        order = _time_order(merged["ts_ms"], merged["gen"])
        ts_ms = merged["ts_ms"][order]
        n_due = int(np.searchsorted(ts_ms, before_ms, side="left"))
        if n_due == 0:  # nothing due: left as it came
            self._keep(merged, hour_now)
            return None
        # (the creation numbers only of what stays: the writer has no use for them)
        ordered = {
            name: ts_ms if name == "ts_ms" else col[order] for name, col in merged.items() if name != "gen"
        }
        if n_due < len(order):
            rest = {name: col[n_due:] for name, col in ordered.items()}
            rest["gen"] = merged["gen"][order[n_due:]]
            self._keep(rest, hour_now)
        self.pending -= n_due
        return {name: col[:n_due] for name, col in ordered.items()}

    def _keep(self, rest: Columns, hour_now: int) -> None:
        hours = rest["ts_ms"] // BUCKET_MS
        near = hours <= hour_now + 1
        if near.all():
            self._chunks.append(rest)
            return
        self._chunks.append({name: col[near] for name, col in rest.items()})
        far = {name: col[~near] for name, col in rest.items()}
        far_hours = hours[~near]
        order = np.argsort(far_hours, kind="stable")
        bounds = np.flatnonzero(np.diff(far_hours[order])) + 1
        for part in np.split(order, bounds):
            hour = int(far_hours[part[0]]) - 1  # looked at from the hour before, so never late
            self._later.setdefault(hour, []).append({name: col[part] for name, col in far.items()})


def _time_order(ts_ms: np.ndarray, gen: np.ndarray) -> np.ndarray:
    """The order of events by (time, creation): one sort of a combined key (milliseconds since the
    earliest, then the creation number) where both fit in 63 bits, as they do for runs of weeks."""
    if len(ts_ms) == 0:
        return np.zeros(0, dtype=np.int64)
    key = ts_ms - ts_ms.min()  # milliseconds since the earliest, made the key in place
    if int(key.max()) < 2**32 and int(gen.max()) < 2**31:
        # the keys are distinct (creation numbers are) and come in runs already in order (a chunk's
        # sessions, the processes' rows): NumPy's timsort merges them in two thirds of its quicksort's time
        key <<= 31
        key |= gen
        return np.argsort(key, kind="stable")
    return np.lexsort((gen, ts_ms))


def nulls(n: int) -> Columns:
    """Null-filled nullable columns for n events."""
    return {name: np.full(n, value, dtype=COLUMNS[name]) for name, value in _NULLS.items()}
