"""`parcours replay` behind the CLI: check everything, start Locust processes, print the summary.

Locust (and gevent, which patches the standard library on import) runs only in the processes started
here, never in the CLI's own; they run in their own session, so a Ctrl-C reaches this process alone,
which then stops Locust with SIGTERM and still collects the summary of what was measured.
"""

from __future__ import annotations

import ipaddress
import math
import re
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
from parcours.lifeline import DieWithParent, child_env
from parcours.loadtests import mapping as mappings
from parcours.loadtests import verdict as verdicts
from parcours.loadtests.checks import run_level
from parcours.loadtests.live import LINGER_S
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
    make_results_dir,
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
#: A host in a --target URL: an IP address (IPv6 in brackets), or DNS labels (underscores allowed, as
#: container and service names use them).
HOST_NAME = re.compile(r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                       r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?")  # fmt: skip


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
    metrics_port: int | None = None
    metrics_linger_s: float = LINGER_S

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
    if opts.metrics_port is not None:
        check_metrics_port(opts.metrics_port, opts.metrics_linger_s)
    thresholds = verdicts.parse_fail_on(opts.fail_on)
    if any(t.name == "check_violations" for t in thresholds) and not opts.check:
        raise ParcoursError("--fail-on: check_violations needs --check (no answer is checked without it)")
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
    with OutLock(checked.run.path, arg="RUN_DIR", shared=True).acquire():  # no overwrite meanwhile
        out = make_results_dir(checked.run.path, opts.out)
        with _target(opts.target, out, run_level(checked.run)) as host:
            echo(
                f"replaying {checked.plan.requests:,} events of {checked.run.path} to {host} at --speed "
                f"{opts.speed:g} (about {checked.plan.duration_s:,.0f} s, {opts.workers} worker(s)); "
                f"logs in {out}"
            )
            stopped = _run_locust(opts, checked, host, out)
    summary = _read_summary(out)
    echo(verdicts.text(summary, checked.thresholds))
    echo(f"  results: {out} (summary.json, requests/*.parquet, locust_stats.csv, locust.html)")
    code = stopped or verdicts.exit_code(summary, checked.thresholds)
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
    try:
        url = urllib.parse.urlsplit(target)
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError as exc:
        raise ParcoursError(f"--target: {target!r} is not a valid URL ({exc})") from None
    host = url.hostname
    if not host:
        raise ParcoursError(f"--target: {target!r} names no host")
    if not (_is_ip(host) or HOST_NAME.fullmatch(host)):
        raise ParcoursError(f"--target: {target!r}: {host!r} is neither an IP address nor a host name")
    if url.query or url.fragment or any(c.isspace() for c in target):
        raise ParcoursError(f"--target: {target!r}: a base URL has no spaces, query or fragment")
    return host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_metrics_port(port: int, linger_s: float) -> None:
    """A port to serve the live metrics on 127.0.0.1, free now (checked by binding it for a moment)."""
    if not 1 <= port <= 65535:
        raise ParcoursError(f"--metrics-port: {port} is not a port number (1 to 65535)")
    if not (math.isfinite(linger_s) and 0 <= linger_s <= MAX_TIMEOUT_S):
        raise ParcoursError(f"--metrics-linger: must be between 0 and {MAX_TIMEOUT_S:g} s, got {linger_s!r}")
    with socket.socket() as s:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the endpoint: TIME_WAIT is fine
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ParcoursError(
                f"--metrics-port: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})"
            ) from None


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
            env=child_env(),
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
    if opts.metrics_port is not None:
        args += ["--metrics-port", str(opts.metrics_port), "--metrics-linger", repr(opts.metrics_linger_s)]
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
        env={**child_env(), "PYTHONUNBUFFERED": "1"},
    )


def _run_locust(opts: ReplayOptions, checked: Checked, host: str, out: Path) -> int | None:
    """Start the processes and wait for them; the exit code of an interruption (Ctrl-C, SIGTERM)."""
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


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Terminated


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """A CI job cancelled with SIGTERM stops the replay as Ctrl-C does, instead of orphaning Locust."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(procs: list[subprocess.Popen[str]]) -> int | None:
    master, workers = procs[0], procs[1:]
    try:
        with _sigterm_as_ctrl_c():
            master.wait()
    except KeyboardInterrupt as exc:
        master.send_signal(signal.SIGTERM)  # the master gathers what was measured and writes the summary
        _stop(master, STOP_WAIT_S)
        for worker in workers:
            _stop(worker, WORKER_EXIT_S)
        return verdicts.EXIT_TERMINATED if isinstance(exc, _Terminated) else verdicts.EXIT_INTERRUPTED
    for worker in workers:
        _stop(worker, WORKER_EXIT_S)
    return None


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
