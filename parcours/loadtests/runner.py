"""`parcours replay` behind the CLI: check everything, start Locust processes, print the summary.

Locust (and gevent, which patches the standard library on import) runs only in the processes started
here, never in the CLI's own; they run in their own session, so a Ctrl-C reaches this process alone,
which then stops Locust with SIGTERM and still collects the summary of what was measured.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from parcours.errors import ParcoursError
from parcours.lifeline import DieWithParent
from parcours.loadtests import mapping as mappings
from parcours.loadtests import verdict as verdicts
from parcours.loadtests.checks import run_level
from parcours.loadtests.schedule import (
    Schedule,
    Window,
    describe,
    make_schedule,
    parse_duration_s,
    parse_window,
)
from parcours.output.paths import OutLock, check_results_out
from parcours.output.reader import Run
from parcours.output.replays import (
    BACKEND_DB,
    BACKEND_LOG,
    SUMMARY,
    ReplaySummary,
    new_replay_dir,
    read_summary,
)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BUILTIN = "builtin"
#: After the master exits, how long its workers get to follow before they are stopped.
WORKER_EXIT_S = 15.0
#: After SIGTERM, how long the master gets to gather results and write the summary.
STOP_WAIT_S = 30.0
#: How long the reachability probe waits for the target to accept one TCP connection.
PROBE_TIMEOUT_S = 3.0
#: Upper bounds of the replay's settings: a Locust worker is a process of its own (two cores replay
#: 4,000 events/s each, so 64 are far beyond one machine); a connection is a socket and a greenlet, and
#: the process's file descriptors (often 1,024 to 65,536) bound them first.
MAX_WORKERS = 64
MAX_CONNECTIONS = 10_000
MAX_SPEED = 1_000_000.0  # a year of events in half a minute
MAX_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class ReplayOptions:
    run_dir: Path
    target: str
    mapping: str | None = None
    speed: float = 1.0
    window: str | None = None
    max_gap: str | None = None
    workers: int = 1
    connections: int = 100
    timeout_s: float = 10.0
    max_lag_ms: float = 100.0
    fail_on: str | None = None
    out: Path | None = None
    dry_run: bool = False
    verbose: bool = False
    check: bool = False

    @property
    def mapping_name(self) -> str:
        return self.mapping or ("reference" if self.target == BUILTIN else "ingest")


@dataclass(frozen=True)
class Checked:
    """Everything a replay needs, validated before any process starts."""

    run: Run
    mapping: mappings.Mapping
    window: Window | None
    plan: Schedule
    thresholds: list[verdicts.Threshold]


def check(opts: ReplayOptions) -> Checked:
    """Validate every input; the first problem raises a one-line ParcoursError."""
    if opts.target != BUILTIN and not opts.target.startswith(("http://", "https://")):
        raise ParcoursError(
            f"--target: expected an http:// or https:// URL or 'builtin', got {opts.target!r}"
        )
    if opts.target != BUILTIN:
        target_address(opts.target)
    for name, value, most in (
        ("--workers", opts.workers, MAX_WORKERS),
        ("--connections", opts.connections, MAX_CONNECTIONS),
    ):
        if not 1 <= value <= most:
            raise ParcoursError(f"{name}: must be between 1 and {most:,}, got {value:,}")
    for name, number, bound in (
        ("--speed", opts.speed, MAX_SPEED),
        ("--timeout", opts.timeout_s, MAX_TIMEOUT_S),
        ("--max-lag-ms", opts.max_lag_ms, MAX_TIMEOUT_S * 1000),
    ):
        if not (math.isfinite(number) and 0 < number <= bound):
            raise ParcoursError(f"{name}: must be a number above 0 and at bound {bound:g}, got {number!r}")
    if opts.out is not None:
        check_results_out(opts.out)
    thresholds = verdicts.parse_fail_on(opts.fail_on)
    window = parse_window(opts.window) if opts.window else None
    max_gap = parse_duration_s(opts.max_gap, "--max-gap") if opts.max_gap else None
    run = Run(opts.run_dir)
    mapping = mappings.load(opts.mapping_name)
    mapping.check_environment()
    if opts.check and not mapping.has_checks:
        raise ParcoursError(f"--check: mapping {mapping.spec.name} states no expectations to check")
    plan = make_schedule(run, mapping, speed=opts.speed, window=window, max_gap_s=max_gap)
    return Checked(run, mapping, window, plan, thresholds)


def replay(
    opts: ReplayOptions, echo: Callable[[str], None], warn: Callable[[str], None] | None = None
) -> int:
    """Run the replay (or only describe it) and return the exit code; ``warn`` gets why it failed."""
    checked = check(opts)
    if opts.dry_run:
        echo(describe(checked.plan, checked.run, checked.mapping, checked.window))
        return 0
    if opts.target != BUILTIN:
        probe(opts.target)  # nothing listens there: say so now, not after a replay of refusals
    # held while the replay reads the run and writes into it: `simulate --overwrite` of it waits its turn
    lock = OutLock(checked.run.path, arg="RUN_DIR", shared=True).acquire()
    try:
        return _replay(opts, checked, echo, warn)
    finally:
        lock.release()


def _replay(
    opts: ReplayOptions, checked: Checked, echo: Callable[[str], None], warn: Callable[[str], None] | None
) -> int:
    out = _results_dir(checked.run, opts.out)
    with _target(opts.target, out, run_level(checked.run)) as host:
        echo(
            f"replaying {checked.plan.requests:,} events of {checked.run.path} to {host} at --speed "
            f"{opts.speed:g} (about {checked.plan.duration_s:,.0f} s, {opts.workers} worker(s)); "
            f"logs in {out}"
        )
        interrupted = _run_locust(opts, checked, host, out)
    summary = _read_summary(out)
    echo(verdicts.text(summary, checked.thresholds))
    echo(f"  results: {out} (summary.json, requests/*.parquet, locust_stats.csv, locust.html)")
    code = verdicts.EXIT_INTERRUPTED if interrupted else verdicts.exit_code(summary, checked.thresholds)
    if code == verdicts.EXIT_TIME_CAP and warn is not None:
        warn(f"parcours: replay stopped: {verdicts.time_cap_reason(summary)}")
    if code == verdicts.EXIT_FAILED and summary.get("failed_reason") and warn is not None:
        warn(f"parcours: replay failed: {summary['failed_reason']}")
    return code


def probe(target: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Open (and close) one TCP connection to the target; a ParcoursError naming --target if none opens."""
    host, port = target_address(target)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except socket.gaierror as exc:
        raise ParcoursError(f"--target: cannot resolve {host!r} ({exc.strerror})") from None
    except TimeoutError:
        raise ParcoursError(
            f"--target: {host}:{port} did not answer a connection within {timeout_s:g} s"
        ) from None
    except OSError as exc:
        raise ParcoursError(
            f"--target: nothing accepts connections at {host}:{port} ({exc.strerror or exc}); "
            "is the backend up?"
        ) from None


def target_address(target: str) -> tuple[str, int]:
    """The host and port of an http(s) URL, each checked: a ParcoursError naming --target if not."""
    url = urllib.parse.urlsplit(target)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        raise ParcoursError(f"--target: {target!r} has an invalid port") from None
    if not url.hostname:
        raise ParcoursError(f"--target: {target!r} names no host")
    return url.hostname, port


def _results_dir(run: Run, out: Path | None) -> Path:
    path = out or new_replay_dir(run.path, dt.datetime.now(dt.UTC))
    check_results_out(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParcoursError(f"{path}: cannot create the results folder ({exc.strerror})") from None
    return path


def _read_summary(out: Path) -> ReplaySummary:
    try:
        return read_summary(out)
    except (OSError, ValueError):
        raise ParcoursError(
            f"the replay ended without writing {out / SUMMARY}; see the logs in {out}"
        ) from None


@contextmanager
def _target(target: str, out: Path, level: str) -> Iterator[str]:
    """The target URL; for ``builtin``, the reference backend, started here for the replay's duration,
    at the run's integration level, its database in the results folder (``backend.sqlite3``)."""
    if target != BUILTIN:
        yield target.rstrip("/")
        return
    with (out / BACKEND_LOG).open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parcours.backend",
                "--port",
                "0",
                "--db",
                str(out / BACKEND_DB),
                "--level",
                level,
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
            preexec_fn=DieWithParent(),  # its own session keeps Ctrl-C away, not a kill -9 of this one
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("listening on "):
                raise ParcoursError(
                    f"--target builtin: the reference backend did not start; see {out / BACKEND_LOG}"
                )
            yield line.removeprefix("listening on ").strip()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def locust_args(opts: ReplayOptions, checked: Checked, host: str, out: Path) -> list[str]:
    """The command line of the master (or of the single process), our options included."""
    run_time = math.ceil(2 * checked.plan.duration_s + opts.timeout_s + 60)  # the load stops by itself
    args = [
        "--headless", "--host", host, "-u", "1", "-r", "1", "--run-time", f"{run_time}s",
        "--csv", str(out / "locust"), "--html", str(out / "locust.html"), "--only-summary",
        "--run-dir", str(checked.run.path.absolute()), "--mapping", checked.mapping.source,
        "--speed", repr(opts.speed), "--connections", str(opts.connections),
        "--request-timeout", repr(opts.timeout_s), "--max-lag-ms", repr(opts.max_lag_ms),
        "--replay-out", str(out.absolute()),
    ]  # fmt: skip
    for flag, value in (("--window", opts.window), ("--max-gap", opts.max_gap), ("--fail-on", opts.fail_on)):
        if value:
            args += [flag, value]
    if opts.check:
        args.append("--check")
    return args


def _spawn(args: list[str], log: IO[str], echo_live: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args],
        stdout=None if echo_live else log,
        stderr=subprocess.STDOUT if not echo_live else None,
        text=True,
        start_new_session=True,
        preexec_fn=DieWithParent(),  # stopped with this process however it ends, kill -9 included
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _run_locust(opts: ReplayOptions, checked: Checked, host: str, out: Path) -> bool:
    """Start the processes and wait for them; True when interrupted with Ctrl-C."""
    master_args = locust_args(opts, checked, host, out)
    port = _free_port()
    if opts.workers > 1:
        master_args += ["--master", "--expect-workers", str(opts.workers),
                        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]  # fmt: skip
    logs = [(out / "locust-master.log").open("w")] + [
        (out / f"locust-worker-{i}.log").open("w") for i in range(opts.workers if opts.workers > 1 else 0)
    ]
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(_spawn(master_args, logs[0], opts.verbose))
        worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        procs += [_spawn(worker_args, log, False) for log in logs[1:]]
        return _wait(procs)
    finally:
        for proc in procs:
            _stop(proc, 5.0)
        for log in logs:
            log.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """A CI job cancelled with SIGTERM stops the replay as Ctrl-C does, instead of orphaning Locust."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(procs: list[subprocess.Popen[str]]) -> bool:
    master, workers = procs[0], procs[1:]
    try:
        with _sigterm_as_ctrl_c():
            master.wait()
    except KeyboardInterrupt:
        master.send_signal(signal.SIGTERM)  # the master gathers what was measured and writes the summary
        _stop(master, STOP_WAIT_S)
        for worker in workers:
            _stop(worker, WORKER_EXIT_S)
        return True
    for worker in workers:
        _stop(worker, WORKER_EXIT_S)
    return False


def _stop(proc: subprocess.Popen[str], grace_s: float) -> None:
    """Wait up to ``grace_s`` for a process to exit by itself, then terminate it, then kill it."""
    for action in (None, proc.terminate, proc.kill):
        if action is not None:
            action()
        try:
            proc.wait(timeout=grace_s if action is None else 5.0)
            return
        except subprocess.TimeoutExpired:
            continue
