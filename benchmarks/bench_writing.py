"""Where the writing side of ``parcours simulate`` spends its CPU: released events to Parquet bytes.

Runs one ``simulate`` in this process (one worker, so every thread is here) with the writing side's
functions wrapped to count the CPU seconds of the thread that runs them (``time.thread_time``):

- the day's thread: what the shard does with each released slice;
- the events sink's thread: the slices turned into Arrow batches (identity strings rendered), and the
  Parquet encoding of the events part;
- the customers and journeys parts: built by the shard's thread, encoded on their sinks' threads;
- the shard's thread after the day: how long it waited for the writer threads (``ParquetSink.close``).

Thread CPU seconds hold on a shared machine better than wall times do. With ``--encode RUN`` it also
encodes the events part of a finished run again, with the project's options and with others (the same
table, other bytes), and prints the CPU seconds per million events.

    python benchmarks/bench_writing.py -n 1000000 -s omnichannel --seed 5
    python benchmarks/bench_writing.py -n 100000 --days 28
    python benchmarks/bench_writing.py --encode runs/demo
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

CPU: Counter[str] = Counter()
WAIT: Counter[str] = Counter()


def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU[label] += time.thread_time() - began

    return wrapper


def instrument() -> None:
    import pyarrow.parquet as pq

    from parcours.output import rundir
    from parcours.simulator.run import shard

    run_day = shard.run_day

    def day(world: Any, sessions: Any, messages: Any, release: Any, tick: Any) -> int:
        return run_day(
            world, sessions, messages, timed("events: each released slice (day thread)", release), tick
        )

    shard.run_day = day
    try:  # before issue 16's writing work (main at e09d5fc) the day's thread did this itself
        from parcours.simulator.run import released

        released._to_arrow = timed("events: slices to Arrow (writer thread)", released._to_arrow)
    except ImportError:
        pass
    shard._write_customers = timed("customers: built (shard thread)", shard._write_customers)
    shard._write_journeys = timed("journeys: built (shard thread)", shard._write_journeys)
    write_table = pq.ParquetWriter.write_table

    def encode(self: pq.ParquetWriter, table: Any, *args: Any, **kwargs: Any) -> None:
        began = time.thread_time()
        write_table(self, table, *args, **kwargs)
        CPU[f"{Path(str(self.where)).parent.name}: encoded (writer thread)"] += time.thread_time() - began

    pq.ParquetWriter.write_table = encode  # type: ignore[method-assign]
    close = rundir.ParquetSink.close

    def closing(self: rundir.ParquetSink) -> None:
        began = time.perf_counter()
        close(self)
        WAIT[self.path.parent.name] += time.perf_counter() - began

    rundir.ParquetSink.close = closing  # type: ignore[method-assign]


def simulate(args: list[str]) -> None:
    instrument()
    from parcours.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        sys.argv = ["parcours", "simulate", *args, "--workers", "1", "--no-progress", "-o", f"{tmp}/run"]
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            main()
        except SystemExit as exc:
            if exc.code:
                raise
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"process: {cpu:.2f} s CPU, {wall:.2f} s wall")
    for label, seconds in sorted(CPU.items()):
        print(f"  {label}: {seconds:.3f} s CPU")
    print(f"  waiting for the writer threads at the end (wall): {sum(WAIT.values()):.3f} s")


def encode(run: Path) -> None:
    import pyarrow.parquet as pq

    from parcours.output.rundir import DELTA_COLUMNS, PARQUET_OPTIONS, writer_options
    from parcours.output.schema import EVENT_SCHEMA

    table = pq.read_table(sorted((run / "events").glob("*.parquet"))[0], schema=EVENT_SCHEMA)
    written = writer_options(EVENT_SCHEMA)
    plain = {**written, "column_encoding": {}, "write_statistics": True}
    options: dict[str, dict[str, Any]] = {
        "as written (zstd 1, differences for " + ", ".join(DELTA_COLUMNS) + ", numbers' statistics)": written,
        "before month2 (zstd 1, plain, every column's statistics)": plain,
        "as written, every column's statistics": {**written, "write_statistics": True},
        "as written, uncompressed": {**written, "compression": "none", "compression_level": None},
        "as written, zstd level -1": {**written, "compression_level": -1},
        "as written, lz4": {**written, "compression": "lz4", "compression_level": None},
        "as written, zstd level 3": {**written, **PARQUET_OPTIONS, "compression_level": 3},
    }
    # one chunk per row group, as the events sink writes them
    groups = [table.slice(first, 262_144).combine_chunks() for first in range(0, table.num_rows, 262_144)]
    print(f"events part of {run}: {table.num_rows:,} events")
    for label, extra in options.items():
        best, size = float("inf"), 0
        for _ in range(3):
            buf = io.BytesIO()
            began = time.process_time()
            with pq.ParquetWriter(buf, EVENT_SCHEMA, **extra) as writer:
                for group in groups:
                    writer.write_table(group, row_group_size=262_144)
            best, size = min(best, time.process_time() - began), len(buf.getvalue())
        print(f"  {label}: {best / table.num_rows * 1e6:.3f} s CPU per million events, {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encode", type=Path, help="a finished run: encode its events part again")
    known, rest = parser.parse_known_args()
    if known.encode is not None:
        encode(known.encode)
    else:
        simulate(rest)


if __name__ == "__main__":
    main()
