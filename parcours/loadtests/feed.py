"""A worker's share of the run, read part by part in chunks of ready-to-send requests.

Plain pyarrow and NumPy: the replay process calls ``next()`` on a reader from a real thread (gevent's
thread pool), so decoding Parquet, filtering, filling the request templates (Arrow compute, which
releases the GIL) and converting to Python lists never stall the gevent loop that sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gevent.threadpool
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parcours.loadtests import templates
from parcours.loadtests.mapping import Mapping, Request
from parcours.loadtests.measure import DIMENSIONS
from parcours.loadtests.schedule import TimeMap
from parcours.output.rundir import CUSTOMERS, CUSTOMERS_DIR

CHUNK_ROWS = 2048
#: Columns the replay loop always needs, whatever the mapping says.
BASE_FIELDS = ("event_id", "seq", "ts", "customer_id", *DIMENSIONS)
#: Headers every request carries, so the backend can measure its own queueing against the schedule.
EVENT_ID_HEADER = "X-Parcours-Event-Id"
DUE_HEADER = "X-Parcours-Due"  # seconds since the epoch, to the microsecond
WORKER_HEADER = "X-Parcours-Worker"


T = TypeVar("T")


def prefetched(pool: gevent.threadpool.ThreadPool, chunks: Iterable[T]) -> Iterator[T]:
    """Iterate in a thread of ``pool``, always one item ahead, without blocking the gevent loop."""
    it = iter(chunks)
    ahead = pool.spawn(next, it, None)
    while (item := ahead.get()) is not None:
        ahead = pool.spawn(next, it, None)
        yield item


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
    """Events of one part, due in order, each with its request filled in; lists indexed by row."""

    offset_s: list[float]
    customer: list[int]
    event_id: list[int]
    order: list[tuple[int, int]]
    event_type: list[str]
    request: list[str]  # the mapping's request key
    path: list[str]
    headers: list[dict[str, str]]
    body: list[bytes | None]
    null_field: list[str | None]  # set when the request needed a field this event lacks
    checks: list[dict[str, str | None] | None]  # values the request's continuity checks compare with
    #: per dimension: the chunk's own names and each row's index into them
    names: dict[str, tuple[list[str], np.ndarray]]

    def __len__(self) -> int:
        return len(self.offset_s)


def _dictionary(column: pa.Array) -> tuple[list[str], np.ndarray]:
    if not isinstance(column, pa.DictionaryArray):
        column = pc.dictionary_encode(column)
    indices: np.ndarray = column.indices.to_numpy(zero_copy_only=False)
    return column.dictionary.to_pylist(), indices


@dataclass
class _Filled:
    path: list[Any]
    headers: list[dict[str, str]]
    body: list[Any]
    null_field: list[str | None]
    checks: list[dict[str, str | None] | None]


class Accounts:
    """The ground truth's account id of each customer (customers.parquet), for ``{account_id}``:
    only the customers of the shards this worker replays (a part is a shard), ``modulo`` when
    workers split parts by customer id."""

    def __init__(
        self, run_dir: Path, shards: list[int] | None = None, modulo: tuple[int, int] | None = None
    ) -> None:
        # one part per shard (customers/part-NNNNN.parquet), or the single file of older runs
        paths = sorted((run_dir / CUSTOMERS_DIR).glob("part-*.parquet")) or [
            p for p in [run_dir / CUSTOMERS] if p.exists()
        ]
        if paths:
            wanted = None if shards is None else [("shard", "in", shards)]
            table = pa.concat_tables(
                [pq.read_table(p, columns=["customer_id", "account_id"], filters=wanted) for p in paths]
            )
            if modulo is not None:
                workers, index = modulo
                table = table.filter(pa.array(table.column("customer_id").to_numpy() % workers == index))
            order = pc.sort_indices(table.column("customer_id")).to_numpy()
            self.ids = table.column("customer_id").to_numpy()[order]
            self.accounts = table.column("account_id").combine_chunks().take(pa.array(order))
        else:  # a run without ground truth: logins fall back to the id the channel shows
            self.ids = np.empty(0, np.int64)
            self.accounts = pa.array([], pa.string())

    def of(self, customers: np.ndarray) -> pa.Array:
        if not len(self.ids):
            return pa.nulls(len(customers), pa.string())
        at = np.minimum(np.searchsorted(self.ids, customers), len(self.ids) - 1)
        found = self.ids[at] == customers
        return self.accounts.take(pa.array(at, mask=~found))


def _first_null(fills: list[templates.Filled], n: int) -> np.ndarray:
    """Per row, the first field some template needed and the row lacks (None when none)."""
    first = np.full(n, None, object)
    for f in fills:
        if f.null_field is not None:
            first = np.where(first == None, f.null_field, first)  # noqa: E711
    return first


def fill_requests(
    batch: pa.RecordBatch, keys: list[str], requests: dict[str, Request], fixed: dict[str, pa.Array]
) -> _Filled:
    """Every row's path, headers and body, each row filled from its own request's templates.

    ``fixed`` holds per-row headers that do not come from the mapping (event id, due time, ...).
    Rows are grouped by request; results are scattered back with NumPy object arrays.
    """
    n = batch.num_rows
    path, body, headers, null_field, checks = (np.empty(n, object) for _ in range(5))
    key_array = np.array(keys, object)
    for key in dict.fromkeys(keys):
        req = requests[key]
        rows = np.flatnonzero(key_array == key) if len(set(keys)) > 1 else np.arange(n)
        sub = batch.take(pa.array(rows)) if len(rows) < n else batch
        p = templates.fill(req.path, sub)
        b = templates.fill(req.body, sub, as_bytes=True) if req.body is not None else None
        named = [(name, templates.fill(pieces, sub)) for name, pieces in req.headers]
        names = [name for name, _ in named] + list(fixed)
        columns = [h.values for _, h in named] + [v.take(pa.array(rows)).to_pylist() for v in fixed.values()]
        if b is not None:
            names.append("Content-Type")
            columns.append(["application/json"] * len(rows))
        path[rows] = p.values
        body[rows] = b.values if b is not None else None
        if req.check_values:
            values = [(key, templates.fill(pieces, sub).values) for key, pieces in req.check_values]
            keys_ = [key for key, _ in values]
            check_rows = zip(*(v for _, v in values), strict=True)
            checks[rows] = [dict(zip(keys_, row, strict=True)) for row in check_rows]
        headers[rows] = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        null_field[rows] = _first_null([p, *(h for _, h in named), *([b] if b else [])], len(rows))
    return _Filled(path.tolist(), headers.tolist(), body.tolist(), null_field.tolist(), checks.tolist())


class ShareReader:
    """Chunks of one part for one worker: in the window, of mapped types, requests filled in."""

    def __init__(
        self,
        part: Path,
        share: Share,
        filter_customers: bool,
        mapping: Mapping,
        time_map: TimeMap,
        speed: float,
        t0_wall: float = 0.0,
        check_level: str | None = None,
        accounts: Accounts | None = None,
    ) -> None:
        self.part = part
        self.share = share
        self.filter_customers = filter_customers
        self.mapping = mapping
        self.requests = mapping.compile(check_level=check_level)
        self.accounts = accounts if "account_id" in mapping.fields else None
        self.time_map = time_map
        self.speed = speed
        self.t0_wall = t0_wall
        derived = templates.DERIVED_FIELDS + templates.TRUTH_FIELDS
        wanted = set(BASE_FIELDS) | {f for f in mapping.fields if f not in derived}
        self.columns = [n for n in pq.read_schema(part).names if n in wanted]

    def __iter__(self) -> Iterator[Chunk]:
        for batch in pq.ParquetFile(self.part).iter_batches(batch_size=CHUNK_ROWS, columns=self.columns):
            chunk = self._chunk(batch)
            if chunk is not None:
                yield chunk

    def _keep(
        self, batch: pa.RecordBatch, ts: np.ndarray, keys: list[str | None], codes: np.ndarray
    ) -> np.ndarray:
        """Rows to send: in the window, of this worker's customers, of a type the mapping sends."""
        keep = self.time_map.in_window(ts) & np.array([k is not None for k in keys], bool)[codes]
        if self.filter_customers:
            customers = batch.column("customer_id").to_numpy()
            keep &= customers % self.share.workers == self.share.index
        return keep

    def _chunk(self, batch: pa.RecordBatch) -> Chunk | None:
        ts = batch.column("ts").cast(pa.int64()).to_numpy()
        types, codes = _dictionary(batch.column("event_type"))
        keys = [self.mapping.request_key(t) for t in types]
        keep = self._keep(batch, ts, keys, codes)
        if not keep.any():
            return None
        batch, ts, codes = batch.filter(pa.array(keep)), ts[keep], codes[keep]
        offset_s = self.time_map.offset_ms(ts) / 1000 / self.speed
        event_id = batch.column("event_id").to_pylist()
        fixed = {
            EVENT_ID_HEADER: batch.column("event_id").cast(pa.string()),
            DUE_HEADER: pc.cast(pa.array(np.round(self.t0_wall + offset_s, 6)), pa.string()),
            WORKER_HEADER: pa.array(np.full(len(event_id), self.share.index)).cast(pa.string()),
        }
        row_keys = np.array(keys, object)[codes].tolist()
        if self.accounts is not None:
            accounts = self.accounts.of(batch.column("customer_id").to_numpy())
            batch = batch.append_column("account_id", accounts)
        filled = fill_requests(batch, row_keys, self.requests, fixed)
        return Chunk(
            offset_s=offset_s.tolist(),
            customer=batch.column("customer_id").to_pylist(),
            event_id=event_id,
            order=list(zip(ts.tolist(), batch.column("seq").to_pylist(), strict=True)),
            event_type=np.array(types, object)[codes].tolist(),
            request=row_keys,
            path=filled.path,
            headers=filled.headers,
            body=filled.body,
            null_field=filled.null_field,
            checks=filled.checks,
            names={d: _dictionary(batch.column(d)) for d in DIMENSIONS},
        )
