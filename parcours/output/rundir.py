"""Writing a run directory safely: under a temporary name, renamed into place only when complete.

An interrupted run leaves a hidden ``.NAME.partial-PID`` directory behind and never a directory that
looks finished; an existing run is only replaced when asked, and only once the new one is complete.
"""

from __future__ import annotations

import glob
import os
import queue
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from parcours.errors import RunDirError
from parcours.output.manifest import Manifest
from parcours.output.paths import CUSTOMERS as CUSTOMERS
from parcours.output.paths import CUSTOMERS_DIR as CUSTOMERS_DIR
from parcours.output.paths import EVENTS_DIR as EVENTS_DIR
from parcours.output.paths import JOURNEYS as JOURNEYS
from parcours.output.paths import JOURNEYS_DIR as JOURNEYS_DIR
from parcours.output.paths import MANIFEST as MANIFEST
from parcours.output.paths import OutLock, check_run_out, overwrite_notice
from parcours.output.paths import is_run as is_run

PARQUET_COMPRESSION = "zstd"
PARQUET_OPTIONS = {
    "compression": PARQUET_COMPRESSION,
    "compression_level": 1,  # level 3 costs a third more time for 1-2% smaller files
}
#: Columns with few distinct values; dictionary-encoding the others (ids, times) only costs time.
DICTIONARY_COLUMNS = [
    "persona",
    "channel",
    "event_type",
    "outcome",
    "visible_id",
    "store_id",
    "campaign_id",
    "home_store_id",
    "shard",
]
#: Integer columns stored as differences (DELTA_BINARY_PACKED) rather than plain 8-byte values: ids and
#: times that rise (event_id, seq, ts) or stay within a shard's range (customer_id, product_id) pack
#: into a few bits each, which zstd then has far less to compress: an events part in about 20% less
#: CPU and 15% fewer bytes (BENCHMARKS.md, "month2"). Readers decode the same values.
DELTA_COLUMNS = ["event_id", "seq", "ts", "customer_id", "product_id"]


def writer_options(schema: pa.Schema) -> dict[str, Any]:
    """The Parquet writer's options for a part of ``schema``: zstd, dictionaries for the columns with few
    values, differences for rising ids and times, and min/max statistics for the numbers only.

    Strings and lists get no statistics: a row group holds every persona, channel and event type and
    random visible ids, so their min/max never rule one out, and computing them over strings took a
    tenth of the events' encoding. The numbers keep theirs (the reader checks ``ts``'s against the
    manifest; filters on ids and times skip row groups by them)."""
    numbers = [
        field.name
        for field in schema
        if pa.types.is_integer(field.type)
        or pa.types.is_floating(field.type)
        or pa.types.is_temporal(field.type)
    ]
    return {
        **PARQUET_OPTIONS,
        "use_dictionary": [name for name in schema.names if name in DICTIONARY_COLUMNS],
        "column_encoding": {name: "DELTA_BINARY_PACKED" for name in schema.names if name in DELTA_COLUMNS},
        "write_statistics": numbers,
    }


def part_name(shard: int, suffix: str = ".parquet") -> str:
    """A shard's part: ``.parquet``, or ``.arrow`` for a scratch run's (``ArrowSink``)."""
    return f"part-{shard:05d}{suffix}"


def check_out_dir(out: Path, *, overwrite: bool) -> None:
    """Refuse an output path that would damage something already on disk (see output/paths.py)."""
    check_run_out(out, overwrite=overwrite)


class ParquetSink:
    """One Parquet file written in row groups of about ``row_group_rows`` rows, batch by batch.

    With ``background=True`` a thread encodes and compresses row groups while the caller goes on
    producing the next ones (pyarrow releases the GIL while it writes); a bounded queue keeps memory
    flat, and an error in the thread is raised by the next ``write`` or by ``close``.
    """

    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        row_group_rows: int = 262_144,
        *,
        background: bool = False,
    ) -> None:
        self.path = path
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer = self._open()
        self._queue: queue.Queue[Callable[[], list[pa.RecordBatch]] | None] | None = None
        self._error: BaseException | None = None
        if background:
            self._queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._drain, name=f"parquet-{path.name}", daemon=True)
            self._thread.start()

    def write(self, batch: pa.RecordBatch) -> None:
        if self._error is not None:
            raise self._error
        if batch.num_rows == 0:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush()

    def write_group(self, rows: int, make: Callable[[], list[pa.RecordBatch]]) -> None:
        """One row group of ``rows`` rows, its batches built by ``make``: on the writer's thread when
        there is one, where building them (Arrow's kernels release the GIL) leaves the caller free."""
        if self._error is not None:
            raise self._error
        self._flush()  # batches given to ``write`` before this, in their own row group
        self.rows += rows
        self._put(make)

    def _flush(self) -> None:
        if not self._pending:
            return
        batches = self._pending
        self._pending, self._pending_rows = [], 0
        self._put(lambda: batches)

    def _put(self, make: Callable[[], list[pa.RecordBatch]]) -> None:
        if self._queue is None:
            self._write(make())
        else:
            self._queue.put(make)

    def _open(self) -> Any:
        return pq.ParquetWriter(self.path, self.schema, **writer_options(self.schema))

    def _write(self, batches: list[pa.RecordBatch]) -> None:
        table = pa.Table.from_batches(batches, schema=self.schema)
        if table.num_rows:
            self._writer.write_table(table, row_group_size=table.num_rows)

    def _drain(self) -> None:
        assert self._queue is not None
        while (make := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(make())
                except BaseException as exc:  # handed to the producer: raised by write or close
                    self._error = exc

    def close(self) -> None:
        try:
            self._flush()
        finally:
            if self._queue is not None:
                self._queue.put(None)
                self._thread.join()
            self._writer.close()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArrowSink(ParquetSink):
    """A scratch run's part (``explain``'s runs that are not kept: read once, in the process that wrote
    them, then removed) as an Arrow IPC stream: its batches' buffers as they are, nothing encoded,
    read back without decoding (``reader.ScratchRun``). A 200,000-customer day's events: 0.01-0.03 s
    to write and a millisecond to read, against 0.03-0.06 s and 0.06-0.2 s as uncompressed Parquet.
    Batches and groups as ``ParquetSink``'s (a row group is a run of batches; the values the same)."""

    def _open(self) -> Any:
        return pa.ipc.new_stream(self.path, self.schema)

    def _write(self, batches: list[pa.RecordBatch]) -> None:
        for batch in batches:
            if batch.num_rows:
                self._writer.write_batch(batch)


#: What a run being written holds: the run's own entries and the shards' ground-truth parts.
_PARTIAL_ENTRY = re.compile(r"(run\.json|events|customers|journeys)(-\d{5})?(\.parquet)?")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove the ``.NAME.partial-PID`` directories a killed writer into ``out`` left behind.

    Called with ``out``'s lock held, so no other parcours process is writing there; a directory is
    removed only when its process is gone and it holds nothing but what a run being written holds.
    """
    removed = []
    for path in out.absolute().parent.glob(f".{glob.escape(out.name)}.partial-*"):
        pid = path.name.rpartition("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        if path.is_symlink() or not path.is_dir():
            continue
        if all(_PARTIAL_ENTRY.fullmatch(entry.name) for entry in path.iterdir()):
            shutil.rmtree(path)
            removed.append(path)
    return removed


class RunWriter:
    """A run directory being written: a hidden temporary directory until ``finish``, and a lock on
    ``out`` for the whole time, so a second writer into the same path fails instead of replacing it."""

    def __init__(
        self, out: Path, *, overwrite: bool = False, say: Callable[[str], None] | None = None
    ) -> None:
        check_run_out(out, overwrite=overwrite)
        self.out = out
        self.overwrite = overwrite
        self.say = say  # told in one line what an overwrite removes, as it happens
        self.keep = False  # a finished run that could not be moved into place stays under its temporary name
        self.lock = OutLock(out).acquire()
        self.tmp = out.absolute().parent / f".{out.name}.partial-{os.getpid()}"
        try:
            self.removed_stale = remove_stale_partials(out)
            if self.removed_stale and say is not None:
                names = ", ".join(p.name for p in self.removed_stale)
                say(f"removed what runs killed while writing {out} left behind: {names}")
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            (self.tmp / EVENTS_DIR).mkdir(parents=True)
        except OSError as exc:
            self.lock.release()
            raise RunDirError(f"{out}: cannot write here ({exc.strerror})") from None

    def events_part(self, shard: int, suffix: str = ".parquet") -> Path:
        return self.tmp / EVENTS_DIR / part_name(shard, suffix)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def finish(self, manifest: Manifest) -> Path:
        """Write the manifest last, then move the finished run into place.

        What is at ``out`` is checked again first, as it may have changed while the run was written;
        if it now holds something parcours may not replace, the new run stays under its hidden name.
        """
        text = manifest.to_json()
        try:
            (self.tmp / MANIFEST).write_text(text)
            try:
                check_run_out(self.out, overwrite=self.overwrite)
            except RunDirError as exc:
                self.keep = True
                raise RunDirError(f"{exc}; the new run is kept at {self.tmp}") from None
            old = self._move_aside()
            try:
                self.tmp.rename(self.out)
            except OSError:
                if old is not None:
                    old.rename(self.out)  # put the previous run back
                raise
        except OSError as exc:
            self.abort()
            raise RunDirError(
                f"{self.out}: cannot move the finished run into place ({exc.strerror})"
            ) from None
        except BaseException:
            self.abort()
            raise
        self.lock.release()
        if old is not None:
            try:
                shutil.rmtree(old)
            except OSError as exc:
                raise RunDirError(f"{old}: the replaced run could not be removed ({exc.strerror})") from None
        return self.out

    def _move_aside(self) -> Path | None:
        """Move the run being replaced out of the way (or remove the empty directory at ``out``)."""
        if is_run(self.out):
            if self.say is not None:
                self.say(overwrite_notice(self.out))
            old = self.out.absolute().parent / f".{self.out.name}.old-{os.getpid()}"
            self.out.rename(old)
            return old
        if self.out.is_dir():
            self.out.rmdir()  # empty, as just checked; rmdir refuses anything else
        return None

    def abort(self) -> None:
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.lock.release()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.abort()
