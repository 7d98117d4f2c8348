"""Reading a finished run directory; refuses unfinished runs, unknown schema versions and parts that do not
match the manifest (a stray copy, a missing part, a part with other events than counted)."""

from __future__ import annotations

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


class Run:
    """A finished run directory: its manifest, events, customers and journeys."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise RunDirError(f"{self.path}: no such run directory")
        if not (self.path / MANIFEST).is_file():
            raise RunDirError(f"{self.path}: not a finished parcours run (no {MANIFEST})")
        self.manifest = Manifest.read(self.path / MANIFEST)
        self._check_parts()

    @cached_property
    def event_parts(self) -> list[Path]:
        """The parts the manifest promises, one per shard, in shard order."""
        return [self.path / EVENTS_DIR / part_name(i) for i in range(self.manifest.shards)]

    def _check_parts(self) -> None:
        """The parts against the manifest: the same files, the same event counts (from the footers)."""
        manifest = self.path / MANIFEST
        shards, total = self.manifest.shards, self.manifest.counts.events
        expected = {p.name for p in self.event_parts}
        for found in sorted((self.path / EVENTS_DIR).glob("*.parquet")):
            if found.name not in expected:
                raise RunDirError(
                    f"{found}: not one of the run's {shards} part(s) named in {manifest}; move it out of "
                    f"{found.parent}"
                )
        per_shard = self.manifest.events_per_shard
        rows = 0
        for shard, part in enumerate(self.event_parts):
            n = _footer_rows(part, shards)
            if len(per_shard) == shards and n != per_shard[shard]:
                raise RunDirError(
                    f"{part}: {n:,} events, {manifest} says {per_shard[shard]:,} for shard {shard}"
                )
            rows += n
        if rows != total:
            raise RunDirError(
                f"{self.path / EVENTS_DIR}: {rows:,} events in {shards} part(s), {manifest} says {total:,}"
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
        parts = sorted((self.path / directory).glob("part-*.parquet"))
        return parts or [self.path / single]

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


def _footer_rows(part: Path, shards: int) -> int:
    """A part's row count and schema version, from its footer alone: the data is not read."""
    if not part.is_file():
        raise RunDirError(f"{part}: missing; the run's manifest says it has {shards} part(s)")
    try:
        meta = pq.read_metadata(part)
    except (OSError, pa.ArrowException) as exc:
        raise RunDirError(f"{part}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    found = schema_version(meta.schema.to_arrow_schema().metadata)
    if found != SCHEMA_VERSION:
        raise RunDirError(f"{part}: schema version {found!r}, expected {SCHEMA_VERSION}")
    return int(meta.num_rows)
