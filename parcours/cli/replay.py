"""``parcours replay | locustfile | locust``: play a run against an HTTP backend with Locust.

Thin on purpose: the commands parse options and call ``parcours.loadtests``, imported inside them;
Locust and gevent only ever load in the processes the replay starts, never in this one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

FAIL_ON_HELP = (
    "Thresholds that fail the run (exit 1), comma-separated NAME=LIMIT. NAME: p50_ms, p90_ms, p95_ms, "
    "p99_ms, p99.9_ms, mean_ms, max_ms (corrected latency; prefix lag_, schedule_lag_ or service_ for "
    "another measure), error_rate, errors, order_violations, not_sent, check_violations (with --check). "
    "Example: p99_ms=500,error_rate=0.01. summary.json records them and those crossed."
)


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
@click.option("--fail-on", metavar="NAME=LIMIT,...", help=FAIL_ON_HELP)
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
@click.option(
    "--metrics-port",
    type=int,
    help="Serve live Prometheus metrics on 127.0.0.1:PORT/metrics during the replay [default: off].",
)
@click.option(
    "--metrics-linger",
    type=float,
    default=15.0,
    show_default=True,
    help="After the end, keep /metrics up until one scrape has read the final values, at most this long (s).",
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
    metrics_port: int | None,
    metrics_linger: float,
    verbose: bool,
) -> None:
    """Replay RUN_DIR's events against --target, each customer in order, each event on time.

    Exit codes: 0 passed; 1 failed: no request succeeded, or a --fail-on threshold crossed; 2 bad
    input, or nothing accepts connections at --target; 3 invalid (the replay fell behind its own
    schedule); 4 stopped at its time cap (still running at its planned length + --timeout + a margin:
    a hanging or slow target); 130 interrupted, 143 terminated (the summary of what was sent is still
    written).
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
        metrics_port=metrics_port,
        metrics_linger_s=metrics_linger,
    )
    code = run_replay(options, click.echo, lambda line: click.echo(line, err=True))
    if code:
        sys.exit(code)  # not click's Exit: main() runs click with standalone_mode=False, which drops it


def _locustfile() -> Path:
    # the file's path without importing it (importing it would load Locust and gevent here)
    import parcours.loadtests

    return Path(parcours.loadtests.__file__).with_name("locustfile.py")


@click.command()
def locustfile() -> None:
    """Print the path of parcours's locustfile, for Locust's own UI and distributed runs.

    \b
    locust -f "$(parcours locustfile)" --run-dir runs/demo --window 12:00-12:10 --speed 60 \\
        --host http://127.0.0.1:8080 --headless -t 30s
    `parcours locust --help` lists the options it adds to Locust's.
    """
    click.echo(_locustfile())


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def locust(args: tuple[str, ...]) -> None:
    """Run Locust itself on parcours's locustfile; ARGS are Locust's (--help lists parcours's too).

    The same as `locust -f "$(parcours locustfile)" ARGS`, except that `--help` also lists the
    options parcours adds (--run-dir, --speed, --mapping, --window...), which plain `locust --help`
    cannot show because Locust prints its help before loading a locustfile.
    """
    argv = [sys.executable, "-m", "parcours.loadtests.launch", *args]
    if not any(a in ("-f", "--locustfile") or a.startswith("--locustfile=") for a in args):
        argv[3:3] = ["-f", str(_locustfile())]
    sys.stdout.flush()
    os.execv(sys.executable, argv)
