"""Reading a finished run directory; refuses unfinished runs, unknown schema versions and parts that do not
match the manifest (a stray copy, a missing part, a part with other events than counted)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from parcours.errors import RunDirError
from parcours.output.manifest import Manifest
from parcours.output.paths import CUSTOMERS, CUSTOMERS_DIR, EVENTS_DIR, JOURNEYS, JOURNEYS_DIR, MANIFEST
from parcours.output.rundir import part_name
from parcours.output.schema import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    JOURNEY_SCHEMA,
    SCHEMA_VERSION,
    schema_version,
)

#: How far past the manifest's end a timestamp may lie: a journey begun on the last day keeps its
#: follow-ups (the simulator stops them before the end; this margin only keeps the check from being
#: tighter than it needs to be to bound the report's arrays by the run's span).
TS_SLACK_MS = 86_400_000


class Run:
    """A finished run directory: its manifest, events, customers and journeys."""

    def __init__(self, path: str | Path, *, customers: bool = True) -> None:
        """``customers=False``: a run written without its customers part (``simulate_run``'s
        ``customers_part``), whose other parts are read and checked as usual."""
        self.path = Path(path)
        self.has_customers = customers
        if not self.path.is_dir():
            raise RunDirError(f"{self.path}: no such run directory")
        if not os.path.lexists(self.path / MANIFEST):
            raise RunDirError(f"{self.path}: not a finished parcours run (no {MANIFEST})")
        self.manifest = Manifest.read(self.path / MANIFEST)
        self._check_parts()

    @cached_property
    def event_parts(self) -> list[Path]:
        """The parts the manifest promises, one per shard, in shard order."""
        return [self.path / EVENTS_DIR / part_name(i) for i in range(self.manifest.shards)]

    def _check_parts(self) -> None:
        """The parts against the manifest, from their footers alone: the same files, the same schemas,
        the same row counts, and every ``ts`` within the run's span (a year-9999 timestamp would have the
        report allocate terabytes). Nothing is read beyond the footers."""
        manifest = self.path / MANIFEST
        shards, total = self.manifest.shards, self.manifest.counts.events
        _no_strays(self.path / EVENTS_DIR, {p.name for p in self.event_parts}, shards, manifest)
        per_shard = self.manifest.events_per_shard
        span = (_ms(self.manifest.start), _ms(self.manifest.end) + TS_SLACK_MS)
        rows = 0
        for shard, part in enumerate(self.event_parts):
            n = _footer(part, shards, EVENT_SCHEMA, span).num_rows
            if n != per_shard[shard]:
                raise RunDirError(
                    f"{part}: {n:,} events, {manifest} says {per_shard[shard]:,} for shard {shard}"
                )
            rows += n
        if rows != total:
            raise RunDirError(
                f"{self.path / EVENTS_DIR}: {rows:,} events in {shards} part(s), {manifest} says {total:,}"
            )
        counts = self.manifest.counts
        ground_truth = [
            (self.customer_parts, CUSTOMER_SCHEMA, "counts.customers_listed", counts.customers_listed),
            (self.journey_parts, JOURNEY_SCHEMA, "counts.journeys", counts.journeys),
        ]
        for parts, schema, field, count in ground_truth[0 if self.has_customers else 1 :]:
            if parts[0].parent != self.path:
                _no_strays(parts[0].parent, {p.name for p in parts}, shards, manifest)
            found = sum(_footer(part, len(parts), schema, span).num_rows for part in parts)
            if found != count:
                raise RunDirError(
                    f"{parts[0].parent}: {found:,} rows in all, {manifest} says {field} {count:,}"
                )

    def events_dataset(self) -> ds.Dataset:
        return ds.dataset([str(p) for p in self.event_parts], schema=EVENT_SCHEMA, format="parquet")

    def events(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Every event of the run, part after part (each part sorted by ts, seq)."""
        with _reading(self.path / EVENTS_DIR):
            return self.events_dataset().to_table(columns=list(columns) if columns else None)

    def iter_event_batches(
        self, columns: Sequence[str] | None = None, parts: Sequence[int] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Row groups as batches, part by part, without loading a whole part."""
        chosen = self.event_parts if parts is None else [self.event_parts[i] for i in parts]
        wanted = list(columns) if columns else None
        for part in chosen:
            with _reading(part):
                reader = pq.ParquetFile(part)
                groups = reader.num_row_groups
            for i in range(groups):
                with _reading(part):
                    batches = reader.read_row_group(i, columns=wanted).to_batches()
                yield from batches

    def _parts(self, directory: str, single: str) -> list[Path]:
        """A ground-truth file's parts, one per shard (or the single file of runs written before parts)."""
        if not (self.path / directory).exists() and (self.path / single).is_file():
            return [self.path / single]
        return [self.path / directory / part_name(i) for i in range(self.manifest.shards)]

    @cached_property
    def customer_parts(self) -> list[Path]:
        return self._parts(CUSTOMERS_DIR, CUSTOMERS)

    @cached_property
    def journey_parts(self) -> list[Path]:
        return self._parts(JOURNEYS_DIR, JOURNEYS)

    def customers(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The customers with at least one event, shard after shard (the manifest counts the whole file:
        ``counts.customers``, and ``customers_by_persona``)."""
        return _read(self.customer_parts, CUSTOMER_SCHEMA, columns)

    def journeys(self, columns: Sequence[str] | None = None) -> pa.Table:
        return _read(self.journey_parts, JOURNEY_SCHEMA, columns)


class ScratchRun(Run):
    """A scratch run (``simulate_run(scratch=True)``: ``explain``'s runs that are not kept, read once by
    the process that wrote them, then removed): no customers part, its events and journeys parts Arrow
    IPC streams (``rundir.ArrowSink``), read without decoding. Checked against its manifest as a run
    is: every part there, of the part's schema, with the rows counted."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, customers=False)

    @cached_property
    def event_parts(self) -> list[Path]:
        return [self.path / EVENTS_DIR / part_name(i, ".arrow") for i in range(self.manifest.shards)]

    @cached_property
    def journey_parts(self) -> list[Path]:
        return [self.path / JOURNEYS_DIR / part_name(i, ".arrow") for i in range(self.manifest.shards)]

    def _check_parts(self) -> None:
        counts = self.manifest.counts
        for parts, schema, field, count in (
            (self.event_parts, EVENT_SCHEMA, "counts.events", counts.events),
            (self.journey_parts, JOURNEY_SCHEMA, "counts.journeys", counts.journeys),
        ):
            found = sum(table.num_rows for table in _streams(parts, schema))
            if found != count:
                raise RunDirError(
                    f"{parts[0].parent}: {found:,} rows in all, {self.path / MANIFEST} says {field} {count:,}"
                )

    def events(self, columns: Sequence[str] | None = None) -> pa.Table:
        return _columns(pa.concat_tables(_streams(self.event_parts, EVENT_SCHEMA)), EVENT_SCHEMA, columns)

    def iter_event_batches(
        self, columns: Sequence[str] | None = None, parts: Sequence[int] | None = None
    ) -> Iterator[pa.RecordBatch]:
        chosen = self.event_parts if parts is None else [self.event_parts[i] for i in parts]
        for table in _streams(chosen, EVENT_SCHEMA):
            yield from _columns(table, EVENT_SCHEMA, columns).to_batches()

    def journeys(self, columns: Sequence[str] | None = None) -> pa.Table:
        journeys = pa.concat_tables(_streams(self.journey_parts, JOURNEY_SCHEMA))
        return _columns(journeys, JOURNEY_SCHEMA, columns)

    def customers(self, columns: Sequence[str] | None = None) -> pa.Table:
        raise RunDirError(f"{self.path}: a scratch run has no customers part")


def _streams(parts: list[Path], schema: pa.Schema) -> Iterator[pa.Table]:
    """Each Arrow IPC part, mapped rather than read, checked to hold ``schema``."""
    for part in parts:
        if not part.is_file():
            raise RunDirError(f"{part}: missing; the run's manifest says it has {len(parts)} part(s)")
        with _reading(part):
            table = pa.ipc.open_stream(pa.memory_map(str(part))).read_all()
        if not table.schema.equals(schema):
            raise RunDirError(f"{part}: not a part of this schema")
        yield table


def _columns(table: pa.Table, schema: pa.Schema, columns: Sequence[str] | None) -> pa.Table:
    return table.select(list(columns) if columns else schema.names)


def _read(parts: list[Path], schema: pa.Schema, columns: Sequence[str] | None) -> pa.Table:
    """The parts one after the other, in shard order (a dataset scan does not promise an order)."""
    wanted = list(columns) if columns else schema.names
    chosen = pa.schema([schema.field(name) for name in wanted])
    tables = []
    for part in parts:
        with _reading(part):
            tables.append(pq.read_table(part, columns=wanted, schema=schema))
    return pa.concat_tables(tables).cast(chosen)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A Parquet file whose data is damaged (its footer was fine) as one line naming it."""
    try:
        yield
    except (OSError, pa.ArrowException) as exc:
        raise RunDirError(f"{path}: damaged, cannot be read ({str(exc).splitlines()[0]})") from None


def _no_strays(folder: Path, expected: set[str], shards: int, manifest: Path) -> None:
    """No Parquet file in ``folder`` but the parts the manifest names."""
    for found in sorted(folder.glob("*.parquet")):
        if found.name not in expected:
            raise RunDirError(
                f"{found}: not one of the run's {shards} part(s) named in {manifest}; move it out of {folder}"
            )


def _ms(instant: str) -> int:
    return int(dt.datetime.fromisoformat(instant).timestamp() * 1000)


def _footer(part: Path, shards: int, schema: pa.Schema, span: tuple[int, int]) -> pq.FileMetaData:
    """A part's footer, checked: a Parquet file of ``schema`` and this schema version whose timestamps
    (their row groups' statistics) lie within ``span`` (ms since the epoch). The data is not read."""
    if not part.is_file():
        raise RunDirError(f"{part}: missing; the run's manifest says it has {shards} part(s)")
    try:
        with pq.ParquetFile(part) as reader:
            meta, found = reader.metadata, reader.schema_arrow
    except (OSError, pa.ArrowException) as exc:
        raise RunDirError(f"{part}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    version = schema_version(found.metadata)
    if version != SCHEMA_VERSION:
        raise RunDirError(f"{part}: schema version {version!r}, expected {SCHEMA_VERSION}")
    for field in schema:
        if field.name not in found.names:
            raise RunDirError(f"{part}: no column {field.name!r} ({field.type})")
        if found.field(field.name).type != field.type:
            raise RunDirError(
                f"{part}: column {field.name!r} is {found.field(field.name).type}, expected {field.type}"
            )
    extra = [name for name in found.names if name not in schema.names]
    if extra:
        raise RunDirError(f"{part}: column {extra[0]!r} is not one of a parcours part's")
    for name in (f.name for f in schema if pa.types.is_timestamp(f.type)):
        _check_times(part, meta, name, span)
    return meta


def _instant(ms: int) -> str:
    try:
        return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)).isoformat()
    except OverflowError:
        return f"{ms:,} ms from 1970"


def _check_times(part: Path, meta: pq.FileMetaData, name: str, span: tuple[int, int]) -> None:
    column = meta.schema.names.index(name)
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(column).statistics
        if meta.row_group(group).num_rows == 0:
            continue
        if stats is None or not stats.has_min_max:
            raise RunDirError(f"{part}: column {name!r} has no min/max statistics; parcours writes them")
        low, high = int(stats.min_raw), int(stats.max_raw)
        if low < span[0] or high > span[1]:
            bad = low if low < span[0] else high
            raise RunDirError(
                f"{part}: column {name!r} holds {_instant(bad)}, outside the run's span in "
                f"{MANIFEST} (start to end)"
            )
