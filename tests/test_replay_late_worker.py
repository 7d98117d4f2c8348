"""A Locust worker tells the master it is ready to replay only once its handlers are in place: Locust
counts a worker as ready as soon as it connects, before its ``init`` listeners (where parcours takes
the replay's messages) have run, and a master that sent the start then lost it ("Unknown message type
received: parcours_start"), so that nothing was sent and the replay stopped at its time cap.

Here the worker's ``init`` is held up on purpose (a listener registered before parcours' yields for a
second and a half, as a busy machine may), master and worker are the real Locust processes started by
hand as the README shows, and the target is a real server on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fault_server import FaultServer
from tests.replay_support import make_run

CUSTOMERS, EVENTS = 6, 5  # 30 events over 60 simulated seconds, replayed at 30x: 2 s
DELAY_S = 1.5

SLOW_INIT = f"""
import gevent
from locust import events


@events.init.add_listener
def held_up(environment, **_):
    if environment.parsed_options.worker:
        gevent.sleep({DELAY_S})  # the master's messages arrive meanwhile


from parcours.loadtests.locustfile import Replay  # noqa: E402,F401  (parcours hooks in after)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_worker_slow_to_start_still_gets_its_share(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    locustfile = tmp_path / "slow_init.py"
    locustfile.write_text(SLOW_INIT)
    out, port = tmp_path / "out", str(_free_port())
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    with FaultServer(lambda n: "ok") as server:
        master = subprocess.Popen(
            [*locust, "--headless", "--host", server.url, "-u", "1", "-r", "1", "--run-time", "60s",
             "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", port, "--run-dir", str(tmp_path / "run"), "--speed", "30",
             "--request-timeout", "2", "--max-lag-ms", "100000",
             "--replay-out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        worker = subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", port],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            master_log, _ = master.communicate(timeout=90)
            worker_log, _ = worker.communicate(timeout=30)
        finally:
            for proc in (master, worker):
                proc.kill()
    summary = json.loads((out / "summary.json").read_text())
    ev = summary["events"]
    assert "Unknown message type" not in worker_log, worker_log
    assert summary["stopped_by"] is None, master_log
    assert ev["sent"] == ev["ok"] == CUSTOMERS * EVENTS == server.counts["ok"], ev
    assert master.returncode == 0, master_log
