"""The per-request log of a replay: one Parquet row per event sent, written as the replay goes.

Each replay process writes its own part, ``requests/part-NNNNN.parquet`` in the results folder (NNNNN
the worker's index; the layout and the schema are ``output/replays``'s), under a hidden ``.partial``
name until it is closed. A request still out when the replay stopped is logged too, its error
``unanswered`` and its ``done`` the moment the replay gave up on it. Rows pile up in flat arrays
and leave as one row group every ``ROWS`` rows, written by the process's folding thread, so memory
stays bounded and the loop that sends never waits on the disk. Times are wall-clock UTC to the
microsecond (the monotonic clock, shifted by the replay's shared start).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from parcours.loadtests.measure import DIMENSIONS, OUTCOMES
from parcours.output.replays import REQUEST_SCHEMA, TIME

ROWS = 50_000


class Pool(Protocol):
    def spawn(self, fn: Callable[[], None]) -> Any: ...

    def join(self) -> None: ...


class RequestLog:
    """Rows of one process; ``add`` per event, ``close`` at the end (it writes what is left)."""

    def __init__(
        self, path: Path, worker: int, names: dict[str, list[str]], wall_offset_s: float, pool: Pool
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.final = path
        # written under a hidden name, renamed when closed: a process killed on the way leaves no part
        # that readers would take for a whole one (a Parquet file is only readable once closed)
        self.path = path.with_name(f".{path.name}.partial")
        self.worker = worker
        self.names = names  # the registry's lists: they only grow, so codes stay valid
        self.wall_offset_s = wall_offset_s  # wall clock = monotonic clock + this
        self.pool = pool
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0
        self._reset()

    def _reset(self) -> None:
        self.ints = array("q")  # event_id, customer_id, channel, persona, event_type, status
        self.times = array("d")  # due, sent, done (monotonic seconds)
        self.text: list[tuple[str, str | None, str | None]] = []  # request, error, check

    def add(
        self,
        event_id: int,
        customer: int,
        codes: tuple[int, int, int],
        request: str,
        times: tuple[float, float, float],
        status: int,
        outcome: int,
        check: str | None,
    ) -> None:
        self.ints.extend((event_id, customer, *codes, status))
        self.times.extend(times)
        self.text.append((request, OUTCOMES[outcome] if outcome else None, check))
        if len(self.text) >= ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.text:
            return
        ints = np.frombuffer(self.ints, np.int64).reshape(-1, 6)
        times = np.frombuffer(self.times, np.float64).reshape(-1, 3)
        text = self.text
        names = {d: list(self.names[d]) for d in DIMENSIONS}
        self._reset()
        self.pool.spawn(lambda: self._write(ints, times, text, names))

    def _write(
        self,
        ints: np.ndarray,
        times: np.ndarray,
        text: list[tuple[str, str | None, str | None]],
        names: dict[str, list[str]],
    ) -> None:
        micros = np.rint((self.wall_offset_s + times) * 1e6).astype(np.int64)
        dims = {
            d: pa.DictionaryArray.from_arrays(pa.array(ints[:, 2 + k].astype(np.int32)), pa.array(names[d]))
            for k, d in enumerate(DIMENSIONS)
        }
        request, error, check = zip(*text, strict=True)
        status = ints[:, 5].astype(np.int32)
        n = len(ints)
        columns = [pa.array(ints[:, 0]), pa.array(ints[:, 1]), *(dims[d] for d in REQUEST_SCHEMA.names[2:5])]
        columns += [pa.array(request, pa.string()), pa.array(np.full(n, self.worker, np.int32))]
        columns += [pa.array(micros[:, k], TIME) for k in range(3)]
        columns += [pa.array(status, mask=status == 0), pa.array(error, pa.string())]
        columns.append(pa.array(check, pa.string()))
        table = pa.Table.from_arrays(columns, schema=REQUEST_SCHEMA)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, REQUEST_SCHEMA, compression="zstd")
        self.writer.write_table(table)
        self.rows += len(table)

    def close(self) -> int:
        """Write what is left and close the file; the number of rows written."""
        self.flush()
        self.pool.join()
        if self.writer is None:  # nothing was sent: an empty part still says so
            pq.write_table(REQUEST_SCHEMA.empty_table(), self.path)
        else:
            self.writer.close()
        self.path.replace(self.final)
        return self.rows
