"""Interruptions: what parcours starts ends with it, however it ends (kill -9 included), and what a killed
``simulate`` leaves behind is removed by the next run into the same place.

The processes are real (``python -m parcours`` in a subprocess, its shard workers, Locust, the built-in
backend); psutil only looks at them. Bounded: each case waits at most a minute in all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from parcours.output.rundir import remove_stale_partials
from tests.fault_server import FaultServer
from tests.replay_support import make_run

WAIT_S = 60.0
#: Runs these tests stop: a month, so that they are still running when stopped however fast the
#: machine (300,000 customers and two workers: about 9 s on two cores; one day took 0.5 s, and a run
#: that had finished before the signal came failed a test). Each is stopped within its first seconds.
A_MONTH = ("--days", "28")


def _children(parent: psutil.Process, count: int) -> list[psutil.Process]:
    """Wait until ``parent`` has at least ``count`` children; return them all (grandchildren too)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        kids = parent.children(recursive=True)
        if len(kids) >= count:
            return kids
        time.sleep(0.1)
    raise AssertionError(f"{parent.pid} started {len(parent.children())} children, not {count}")


def _started(kids: list[psutil.Process], cpu_s: float = 0.5) -> None:
    """Wait until every shard worker among ``kids`` is past its start: it has read what the parent sends
    a spawned process and is importing (CPU spent). On a loaded machine a signal that arrives earlier
    stops the parent between starting a worker and writing to it, and the worker dies with EOFError."""
    deadline = time.monotonic() + WAIT_S
    workers = [k for k in kids if "resource_tracker" not in " ".join(k.cmdline())]
    while time.monotonic() < deadline:
        if all(sum(k.cpu_times()[:2]) >= cpu_s for k in workers):
            return
        time.sleep(0.1)


def _kill_and_check(proc: subprocess.Popen[str], kids: list[psutil.Process]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=WAIT_S)
    _, alive = psutil.wait_procs(kids, timeout=20)
    for kid in alive:  # do not leave them behind when the test fails
        kid.kill()
    assert not alive, [k.cmdline() for k in alive]


@pytest.mark.slow
def test_shard_workers_die_with_a_killed_simulate_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "parcours",
        "simulate",
        "--no-progress",
        "-n",
        "400000",
        *A_MONTH,
        "-w",
        "2",
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    parent = psutil.Process(proc.pid)
    kids = _children(parent, 2)  # two shard workers (and, when they are spawned, a resource tracker)
    partial = tmp_path / f".run.partial-{proc.pid}"
    deadline = time.monotonic() + WAIT_S
    while not (partial / "events").is_dir() and time.monotonic() < deadline:
        time.sleep(0.1)
    _kill_and_check(proc, kids)
    assert partial.is_dir()  # what the killed run left behind
    theirs = tmp_path / ".run.partial-1"  # pid 1 is alive: a directory another run may be writing
    (theirs / "events").mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "parcours", "simulate", "--no-progress", "-n", "200", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert not partial.exists() and f"removed what runs killed while writing {out}" in done.stderr
    assert theirs.is_dir()  # its process lives: not ours to remove
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.partial-1", "run"]


def test_a_stale_partial_is_removed_only_when_it_holds_a_run_being_written(tmp_path: Path) -> None:
    dead = _dead_pid()
    ours = tmp_path / f".run.partial-{dead}"
    (ours / "events").mkdir(parents=True)
    (ours / "events" / "part-00000.parquet").write_bytes(b"x")
    (ours / "customers-00000.parquet").write_bytes(b"x")
    foreign = tmp_path / f".run.partial-{dead}x"  # not a pid: not a name parcours gives
    foreign.mkdir()
    mixed = tmp_path / f".run.partial-{_dead_pid(after=dead)}"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("someone's")
    other_name = tmp_path / f".other.partial-{dead}"
    other_name.mkdir()
    assert remove_stale_partials(tmp_path / "run") == [ours]
    assert foreign.is_dir() and mixed.is_dir() and other_name.is_dir() and not ours.exists()


def _dead_pid(after: int = 0) -> int:
    """A pid no process has now (checked; a pid is only reused after the counter wraps)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    pid = proc.pid if proc.pid != after else _dead_pid(after)
    assert not psutil.pid_exists(pid)
    return pid


@pytest.mark.slow
def test_locust_and_the_builtin_backend_die_with_a_killed_replay(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=4, events=50, span_s=3600)  # an hour at speed 10: six minutes
    cmd = [sys.executable, "-m", "parcours", "replay", str(tmp_path / "run"), "--target", "builtin",
           "--speed", "10", "--workers", "2", "--out", str(tmp_path / "out")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    kids = _children(psutil.Process(proc.pid), 4)  # the backend, Locust's master and two workers
    _kill_and_check(proc, kids)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_replay_killed_mid_flight_leaves_no_child_behind(tmp_path: Path, workers: str) -> None:
    # requests hang at the target: the Locust master would wait for its workers' results, and they for
    # their requests; killed with its parent, each ends within a few seconds all the same
    make_run(tmp_path / "run", customers=4, events=50, span_s=3600)
    with FaultServer(lambda n: "hang") as server:
        cmd = [sys.executable, "-m", "parcours", "replay", str(tmp_path / "run"), "--target", server.url,
               "--speed", "10", "--timeout", "60", "--workers", workers,
               "--out", str(tmp_path / "out")]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        kids = _children(psutil.Process(proc.pid), 1 if workers == "1" else 3)
        deadline = time.monotonic() + WAIT_S
        while server.received < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.received >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT_S)
        started = time.monotonic()
        _, alive = psutil.wait_procs(kids, timeout=20)
        for kid in alive:
            kid.kill()
        assert not alive, [k.cmdline() for k in alive]
        assert time.monotonic() - started < 15  # not Locust's 60 s heartbeat, nor a wait for results


@pytest.mark.slow
def test_sigterm_stops_simulate_and_its_shards_now_not_when_they_finish(tmp_path: Path) -> None:
    # a month of a million customers: the shards would run for half a minute; stopped, the run ends at
    # once, cleaned up
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "parcours",
        "simulate",
        "--no-progress",
        "-n",
        "1000000",
        *A_MONTH,
        "-w",
        "2",
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kids = _children(psutil.Process(proc.pid), 2)  # two shard workers (spawned: and a resource tracker)
    _started(kids)
    deadline = time.monotonic() + WAIT_S
    while not (tmp_path / f".run.partial-{proc.pid}" / "events").is_dir() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        for kid in kids:
            if kid.is_running():
                kid.kill()
    assert proc.returncode == 143 and err.strip().endswith("parcours: terminated"), err
    _, alive = psutil.wait_procs(kids, timeout=20)
    assert not alive
    assert list(tmp_path.iterdir()) == []  # no run, no partial directory, no lock


def _stop_simulate_at(tmp_path: Path, when: str | float) -> tuple[int, str, list[psutil.Process]]:
    """Start a two-worker simulate and send it SIGTERM ``when`` seconds after it started, or (``"fork"``)
    the moment its first shard worker exists: while the pool is still forking. Returns its exit code,
    its stderr and every process it had started by then."""
    cmd = [sys.executable, "-m", "parcours", "simulate", "--no-progress", "-n", "300000", *A_MONTH, "-w", "2"]
    proc = subprocess.Popen([*cmd, "-o", str(tmp_path / "run")], stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    if when == "fork":
        deadline = time.monotonic() + WAIT_S
        while not parent.children() and proc.poll() is None and time.monotonic() < deadline:
            pass  # no sleep: the window between the first fork and the last one is milliseconds wide
    else:
        time.sleep(float(when))
    kids = parent.children(recursive=True) if proc.poll() is None else []
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        for p in [*parent.children(recursive=True), parent]:
            p.kill()
        proc.communicate()
        raise AssertionError(f"simulate, stopped at {when}, was still running {WAIT_S:.0f} s later") from None
    return proc.returncode, err, kids


@pytest.mark.slow
@pytest.mark.parametrize("when", ["fork"] * 3 + [0.3, 1.0], ids=["fork-1", "fork-2", "fork-3", "0.3s", "1s"])
def test_sigterm_at_any_moment_of_simulate_start_ends_it_alike(tmp_path: Path, when: str | float) -> None:
    """Whenever the signal lands (before the pool, while it forks its workers, while shards run), the run
    ends the one way: exit 143 and one line, no traceback from it or a worker, no run and no partial
    folder left, no worker left running. Before parcours's handler is in place (the interpreter still
    starting) the kernel ends it by the signal itself, nothing written: that counts as alike too."""
    code, err, kids = _stop_simulate_at(tmp_path, when)
    _, alive = psutil.wait_procs(kids, timeout=20)
    for kid in alive:
        kid.kill()
    assert "Traceback" not in err and "Error" not in err, err
    assert (code, err.strip()) in [(143, "parcours: terminated"), (-signal.SIGTERM, "")], (code, err)
    assert not alive, [k.cmdline() for k in alive]
    assert list(tmp_path.iterdir()) == []  # no run that looks finished, no partial folder, no lock
