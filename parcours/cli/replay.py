"""``parcours replay``: play a run against an HTTP backend with Locust, at N times real speed.

Thin on purpose: it parses options and calls ``parcours.loadtests.runner``, imported inside the
command; Locust and gevent only ever load in the processes the runner starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--target", "-t", required=True, help="Backend base URL, or 'builtin' to start the reference backend."
)
@click.option(
    "--mapping",
    "-m",
    help="Built-in mapping (ingest, ingest_batch, reference) or .toml file "
    "[default: reference with --target builtin, else ingest].",
)
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per real second."
)
@click.option("--window", help="Replay only HH:MM-HH:MM of each day, in the run's time zone.")
@click.option("--max-gap", help="Shorten idle stretches of simulated time to this (300s, 5m, 1h).")
@click.option("--workers", "-w", type=int, default=1, show_default=True, help="Locust worker processes.")
@click.option(
    "--connections", type=int, default=100, show_default=True, help="Requests in flight per worker."
)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Request timeout, seconds.")
@click.option(
    "--max-lag-ms",
    type=float,
    default=100.0,
    show_default=True,
    help="Lag gate: a replay whose schedule lag p99 exceeds this is invalid (exit 3).",
)
@click.option("--fail-on", help="Thresholds that fail the run (exit 1), e.g. p99_ms=500,error_rate=0.01.")
@click.option(
    "--out", "-o", type=click.Path(path_type=Path), help="Results folder [default: RUN/replays/TIME]."
)
@click.option(
    "--dry-run", is_flag=True, help="Print duration, request rates and workers needed; send nothing."
)
@click.option(
    "--check",
    is_flag=True,
    help="Check the mapping's continuity expectations on every answer (exit 1 if any fails).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show Locust's own output.")
def replay(
    run_dir: Path,
    target: str,
    mapping: str | None,
    speed: float,
    window: str | None,
    max_gap: str | None,
    workers: int,
    connections: int,
    timeout: float,
    max_lag_ms: float,
    fail_on: str | None,
    out: Path | None,
    dry_run: bool,
    check: bool,
    verbose: bool,
) -> None:
    """Replay RUN_DIR's events against --target, each customer in order, each event on time.

    Exit codes: 0 passed, 1 a --fail-on threshold crossed, 2 bad input, 3 invalid (the replay fell
    behind its own schedule), 130 interrupted (the summary of what was sent is still written).
    """
    from parcours.loadtests.runner import ReplayOptions
    from parcours.loadtests.runner import replay as run_replay

    options = ReplayOptions(
        run_dir=run_dir,
        target=target,
        mapping=mapping,
        speed=speed,
        window=window,
        max_gap=max_gap,
        workers=workers,
        connections=connections,
        timeout_s=timeout,
        max_lag_ms=max_lag_ms,
        fail_on=fail_on,
        out=out,
        dry_run=dry_run,
        verbose=verbose,
        check=check,
    )
    code = run_replay(options, click.echo)
    if code:
        sys.exit(code)  # not click's Exit: main() runs click with standalone_mode=False, which drops it
