"""A Locust worker tells the master it is ready to replay only once its handlers are in place: Locust
counts a worker as ready as soon as it connects, before its ``init`` listeners (where parcours takes
the replay's messages) have run, and a master that sent the start then lost it ("Unknown message type
received: parcours_start"), so that nothing was sent and the replay stopped at its time cap.

Here the worker's ``init`` is held up on purpose (a listener registered before parcours' yields for a
second and a half, as a busy machine may), master and worker are the real Locust processes started by
hand as the README shows, and the target is a real server on 127.0.0.1. A master stopped while it
still waits for its workers ends at once, its summary written.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fault_server import FaultServer
from tests.replay_support import make_run

CUSTOMERS, EVENTS = 6, 5  # 30 events over 60 simulated seconds, replayed at 30x: 2 s

SLOW_INIT = """
import gevent
from locust import events


@events.init.add_listener
def held_up(environment, **_):
    if environment.parsed_options.worker:
        gevent.sleep({delay_s})  # the master's messages arrive meanwhile


from parcours.loadtests.locustfile import Replay  # noqa: E402,F401  (parcours hooks in after)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    tmp_path: Path, target: str, delay_s: float
) -> tuple[subprocess.Popen[str], subprocess.Popen[str]]:
    """A master expecting one worker, and that worker, its ``init`` held up ``delay_s``."""
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    locustfile = tmp_path / "slow_init.py"
    locustfile.write_text(SLOW_INIT.format(delay_s=delay_s))
    port = str(_free_port())
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    master = subprocess.Popen(
        [*locust, "--headless", "--host", target, "-u", "1", "-r", "1", "--run-time", "60s",
         "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
         "--master-bind-port", port, "--run-dir", str(tmp_path / "run"), "--speed", "30",
         "--request-timeout", "2", "--max-lag-ms", "100000", "--replay-out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", port],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return master, worker


@pytest.mark.slow
def test_a_worker_slow_to_start_still_gets_its_share(tmp_path: Path) -> None:
    with FaultServer(lambda n: "ok") as server:
        master, worker = _start(tmp_path, server.url, delay_s=1.5)
        try:
            master_log, _ = master.communicate(timeout=90)
            worker_log, _ = worker.communicate(timeout=30)
        finally:
            for proc in (master, worker):
                proc.kill()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    ev = summary["events"]
    assert "Unknown message type" not in worker_log, worker_log
    assert summary["stopped_by"] is None, master_log
    assert ev["sent"] == ev["ok"] == CUSTOMERS * EVENTS == server.counts["ok"], ev
    assert master.returncode == 0, master_log


@pytest.mark.slow
def test_a_stop_before_the_workers_are_ready_ends_at_once(tmp_path: Path) -> None:
    """Stopped while it waits for a worker to say it is ready, the master does not wait for results no
    worker has (15 s): it writes the summary, nothing sent, and exits."""
    with FaultServer(lambda n: "ok") as server:
        master, worker = _start(tmp_path, server.url, delay_s=30)
        try:
            deadline = time.monotonic() + 30
            while not (tmp_path / "out").is_dir() and time.monotonic() < deadline:
                time.sleep(0.05)  # the test has started: the master waits for the worker
            time.sleep(0.5)
            master.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            master_log, _ = master.communicate(timeout=60)
            took = time.monotonic() - stopped
        finally:
            for proc in (master, worker):
                proc.kill()
            worker.communicate()
        received = server.counts["ok"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    ev = summary["events"]
    assert ev["sent"] == 0 == received and ev["not_sent"] == CUSTOMERS * EVENTS, ev
    assert summary["interrupted"], master_log
    assert took < 12, (took, master_log)  # not the 15 s of waiting for results that cannot come
