"""Time ``parcours report`` on a large run and print its figures.

    .venv/bin/python benchmarks/bench_report.py                      # simulates 1,000,000 customers first
    .venv/bin/python benchmarks/bench_report.py --run runs/big       # or reports on an existing run

The baseline, in the same process, is reading the columns the report needs and nothing else: the
ratio says what the figures cost on top of the Parquet I/O they cannot avoid.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from parcours.output.reader import Run
from parcours.report.columns.events import COLUMNS
from parcours.report.numbers.kpis import KPIS, fmt, headline
from parcours.report.pages.build import html_report, summarise_all
from parcours.report.pages.jsondoc import json_report


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulate(out: Path, customers: int, scenario: str) -> None:
    from parcours.simulator.run.options import Overrides
    from parcours.simulator.run.simulate import simulate_run

    t0 = time.perf_counter()
    manifest = simulate_run(scenario, Overrides(customers=customers), out, overwrite=True)
    print(
        f"simulated {customers:,} customers, {manifest.counts.events:,} events "
        f"in {time.perf_counter() - t0:.1f} s -> {out}"
    )


def baseline_read(run: Run) -> float:
    t0 = time.perf_counter()
    rows = sum(b.num_rows for b in run.iter_event_batches(columns=COLUMNS))
    assert rows == run.manifest.counts.events
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run directory (else one is simulated)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--scenario", default="omnichannel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        path = args.run or Path(tmp) / "run"
        if args.run is None:
            simulate(path, args.customers, args.scenario)
        run = Run(path)
        events = int(run.manifest.counts.events)
        read_s = baseline_read(run)
        t0 = time.perf_counter()
        [summary] = summarise_all([run])
        compute_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        page = html_report([summary])
        html_s = time.perf_counter() - t1
        json_report([summary])
        total = compute_s + html_s
        print(f"run: {path} ({summary.customers:,} customers, {events:,} events, {summary.days} day(s))")
        print(f"baseline, read the report's columns: {read_s:6.2f} s  ({events / read_s:,.0f} events/s)")
        print(
            f"figures from the events (summarise):   {compute_s:6.2f} s  "
            f"({events / compute_s:,.0f} events/s, "
            f"{compute_s / read_s:.1f}x the baseline read)"
        )
        print(f"plots and HTML ({len(page) / 1e6:.1f} MB page):       {html_s:6.2f} s")
        print(f"report, total:                         {total:6.2f} s;  peak RSS {peak_rss_mb():,.0f} MB")
        print("headline figures:")
        for k, v in zip(KPIS, headline(summary).values(), strict=True):
            print(f"  {k.label:<52} {fmt(k, v)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
