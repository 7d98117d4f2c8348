"""How the parts are encoded (output/rundir.py: writer_options), read back from the files themselves, and
that the readers people use on a run (pyarrow, Polars, DuckDB) see the same tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parcours.output.arrays import column, strings
from parcours.output.reader import Run
from parcours.output.rundir import ParquetSink, writer_options
from parcours.output.schema import EVENT_SCHEMA

PARTS = ("events", "customers", "journeys")


def _chunks(path: Path) -> dict[str, list[pq.ColumnChunkMetaData]]:
    """Every row group's metadata of each leaf column, by its path."""
    meta = pq.ParquetFile(path).metadata
    found: dict[str, list[pq.ColumnChunkMetaData]] = {}
    for group in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            chunk = meta.row_group(group).column(i)
            found.setdefault(chunk.path_in_schema, []).append(chunk)
    return found


def test_ids_and_times_are_stored_as_differences(omni_run: Run) -> None:
    events = _chunks(next((omni_run.path / "events").glob("*.parquet")))
    for name in ("event_id", "seq", "ts", "customer_id", "product_id"):
        assert all("DELTA_BINARY_PACKED" in c.encodings for c in events[name]), name
    for name in ("session_id", "journey_id", "amount_cents"):  # random order: plain, as before
        assert all("DELTA_BINARY_PACKED" not in c.encodings for c in events[name]), name
    for name in ("persona", "channel", "event_type", "store_id"):
        assert all(c.has_dictionary_page for c in events[name]), name
    customers = _chunks(next((omni_run.path / "customers").glob("*.parquet")))
    assert all("DELTA_BINARY_PACKED" in c.encodings for c in customers["customer_id"])


@pytest.mark.parametrize("part", PARTS)
def test_numbers_have_statistics_and_strings_none(omni_run: Run, part: str) -> None:
    chunks = _chunks(next((omni_run.path / part).glob("*.parquet")))
    schema = pq.read_schema(next((omni_run.path / part).glob("*.parquet")))
    for field in schema:
        leaves = [c for name, c in chunks.items() if name == field.name or name.startswith(f"{field.name}.")]
        has = {chunk.is_stats_set and chunk.statistics.has_min_max for group in leaves for chunk in group}
        numeric = pa.types.is_integer(field.type) or pa.types.is_timestamp(field.type)
        numeric = numeric or pa.types.is_floating(field.type)
        if numeric:
            assert has == {True}, field.name  # the reader checks ts's against the manifest, filters use them
        else:
            assert has == {False}, field.name  # strings, dictionaries of strings, lists


def _normal(table: pa.Table, like: pa.Schema) -> pa.Table:
    """``table``'s columns as ``like``'s types, dictionaries as their values (readers differ there)."""
    out = []
    for field in like:
        col = table.column(field.name).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        want = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        out.append(col.cast(want))
    return pa.table(out, names=like.names)


def _readers_agree(path: Path) -> None:
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    expected = pq.read_table(path)
    expected = _normal(expected, expected.schema)
    by_polars = polars.read_parquet(path).to_arrow()
    relation = duckdb.sql(f"select * from read_parquet('{path}')")
    # to_arrow_table since DuckDB 1.4 (fetch_arrow_table before it, deprecated since)
    by_duckdb = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    for name, table in (("polars", by_polars), ("duckdb", by_duckdb)):
        assert table.num_rows == expected.num_rows, name
        assert _normal(table, pq.read_schema(path)).equals(expected), name


@pytest.mark.parametrize("part", PARTS)
def test_polars_and_duckdb_read_the_tables_pyarrow_reads(omni_run: Run, part: str) -> None:
    for path in sorted((omni_run.path / part).glob("*.parquet")):
        _readers_agree(path)


def test_differences_keep_extreme_and_null_values(tmp_path: Path) -> None:
    """Ids that jump across the whole int64 range (their differences overflow), nulls among products."""
    rng = np.random.default_rng(3)
    n = 5_000
    extremes = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, -1, 1], dtype=np.int64)
    ids = rng.choice(extremes, n)
    ids[::7] = rng.integers(-(2**62), 2**62, len(ids[::7]))
    product = rng.integers(-(2**40), 2**40, n)
    columns: dict[str, pa.Array] = {}
    for field in EVENT_SCHEMA:
        if field.name in ("event_id", "seq", "customer_id"):
            columns[field.name] = column(ids if field.name != "seq" else ids[::-1].copy(), field.type)
        elif field.name == "ts":
            columns[field.name] = column(rng.integers(0, 2**45, n), field.type)
        elif field.name == "product_id":
            columns[field.name] = column(product, field.type, mask=product % 3 == 0)
        elif field.name == "visible_id":
            columns[field.name] = strings([f"id-{i}" for i in range(n)])
        elif pa.types.is_dictionary(field.type):
            values = strings(["a", "b", "c"])
            columns[field.name] = pa.DictionaryArray.from_arrays(
                column(rng.integers(0, 3, n), field.type.index_type), values
            )
        elif pa.types.is_floating(field.type):
            columns[field.name] = column(rng.random(n).astype(np.float32), field.type)
        else:
            columns[field.name] = column(rng.integers(0, 100, n), field.type)
    table = pa.table(columns, schema=EVENT_SCHEMA)
    path = tmp_path / "extreme.parquet"
    with ParquetSink(path, EVENT_SCHEMA, row_group_rows=2_000) as sink:
        for batch in table.to_batches(max_chunksize=1_500):
            sink.write(batch)
    assert pq.read_table(path).equals(table)
    assert "DELTA_BINARY_PACKED" in pq.ParquetFile(path).metadata.row_group(0).column(0).encodings
    assert writer_options(EVENT_SCHEMA)["column_encoding"]["product_id"] == "DELTA_BINARY_PACKED"
    _readers_agree(path)
