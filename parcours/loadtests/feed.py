"""A worker's share of the run, read part by part in chunks ready for the replay loop.

Plain pyarrow and NumPy: the replay process calls ``next()`` on a reader from a real thread (gevent's
thread pool), so decoding Parquet, filtering and converting to Python lists never stall the gevent loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parcours.loadtests.mapping import Mapping
from parcours.loadtests.measure import DIMENSIONS
from parcours.loadtests.schedule import TimeMap

CHUNK_ROWS = 4096
#: Columns the replay loop always needs, whatever the mapping says.
BASE_FIELDS = ("event_id", "seq", "ts", "customer_id", *DIMENSIONS)


@dataclass(frozen=True)
class Share:
    """Worker ``index`` of ``workers``: which parts it reads, and whether it must split them by customer.

    Parts are dealt by index when they divide evenly among the workers (each worker reads only its
    own parts); otherwise every worker reads every part and keeps the customers with
    ``customer_id % workers == index``. Either way a customer's events all go to one worker.
    """

    workers: int = 1
    index: int = 0

    def parts(self, n_parts: int) -> list[int]:
        if self.by_customer(n_parts):
            return list(range(n_parts))
        return [p for p in range(n_parts) if p % self.workers == self.index]

    def by_customer(self, n_parts: int) -> bool:
        return self.workers > 1 and n_parts % self.workers != 0


@dataclass
class Chunk:
    """Events of one part, due in order: columns as Python lists, indexed by row."""

    offset_s: list[float]
    customer: list[int]
    event_id: list[int]
    order: list[tuple[int, int]]
    event_type: list[str]
    columns: dict[str, list[Any]]
    #: per dimension: the chunk's own names and each row's index into them
    names: dict[str, tuple[list[str], np.ndarray]]
    unmapped: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.offset_s)

    @classmethod
    def empty(cls, unmapped: Counter[str]) -> Chunk:
        """No event to send, only unmapped ones to count."""
        none = np.empty(0, np.int32)
        return cls([], [], [], [], [], {}, {d: ([], none) for d in DIMENSIONS}, unmapped)


def _dictionary(column: pa.Array) -> tuple[list[str], np.ndarray]:
    if not isinstance(column, pa.DictionaryArray):
        column = pc.dictionary_encode(column)
    indices: np.ndarray = column.indices.to_numpy(zero_copy_only=False)
    return column.dictionary.to_pylist(), indices


class ShareReader:
    """Chunks of one part for one worker: in the window, of mapped types, with their due offsets."""

    def __init__(
        self,
        part: Path,
        share: Share,
        filter_customers: bool,
        mapping: Mapping,
        time_map: TimeMap,
        speed: float,
    ) -> None:
        self.part = part
        self.share = share
        self.filter_customers = filter_customers
        self.mapping = mapping
        self.time_map = time_map
        self.speed = speed
        wanted = set(BASE_FIELDS) | {f for f in mapping.fields if f not in ("ts_ms", "ts_iso")}
        self.columns = [n for n in pq.read_schema(part).names if n in wanted]
        self.handled: dict[str, bool] = {}

    def __iter__(self) -> Iterator[Chunk]:
        for batch in pq.ParquetFile(self.part).iter_batches(batch_size=CHUNK_ROWS, columns=self.columns):
            chunk = self._chunk(batch)
            if chunk is not None:
                yield chunk

    def _keep(
        self, batch: pa.RecordBatch, ts: np.ndarray, types: list[str], codes: np.ndarray
    ) -> tuple[np.ndarray, Counter[str]]:
        """Rows to send, and the unmapped ones (in the window, of this worker) counted by type."""
        keep = self.time_map.in_window(ts)
        if self.filter_customers:
            customers = batch.column("customer_id").to_numpy()
            keep &= customers % self.share.workers == self.share.index
        for name in types:
            self.handled.setdefault(name, self.mapping.handles(name))
        handled = np.array([self.handled[n] for n in types], bool)[codes]
        unmapped = Counter(types[c] for c in codes[keep & ~handled].tolist())
        return keep & handled, unmapped

    def _chunk(self, batch: pa.RecordBatch) -> Chunk | None:
        ts = batch.column("ts").cast(pa.int64()).to_numpy()
        types, codes = _dictionary(batch.column("event_type"))
        keep, unmapped = self._keep(batch, ts, types, codes)
        if not keep.any():
            return Chunk.empty(unmapped) if unmapped else None
        batch, ts = batch.filter(pa.array(keep)), ts[keep]
        columns = {name: batch.column(name).to_pylist() for name in batch.schema.names if name != "ts"}
        columns["ts"] = columns["ts_ms"] = ts.tolist()
        if "ts_iso" in self.mapping.fields:
            columns["ts_iso"] = [
                s + "Z" for s in np.datetime_as_string(ts.astype("datetime64[ms]"), unit="ms")
            ]
        return Chunk(
            offset_s=(self.time_map.offset_ms(ts) / 1000 / self.speed).tolist(),
            customer=columns["customer_id"],
            event_id=columns["event_id"],
            order=list(zip(columns["ts_ms"], columns["seq"], strict=True)),
            event_type=columns["event_type"],
            columns=columns,
            names={d: _dictionary(batch.column(d)) for d in DIMENSIONS},
            unmapped=unmapped,
        )
