"""Replay accounting that always adds up: sent = ok + failed + unanswered, not sent = the rest, every sent
request in the request log, under every stop (the time cap, Ctrl-C, SIGTERM) and a Locust worker killed
mid-replay; ``summary.json`` records the ``--fail-on`` thresholds and which crossed.

The targets are tests/fault_server.py peers that misbehave on purpose (raw sockets on 127.0.0.1); the
replay is the real one (``python -m parcours`` and its Locust processes). Bounded: 120 events, a few
seconds of replay each, a minute at most for any wait.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq
import pytest

from parcours.cli.main import main
from tests.fault_server import FaultServer
from tests.replay_support import make_run

CUSTOMERS, EVENTS = 12, 10
WAIT_S = 60.0


def replay_argv(run: Path, url: str, out: Path, *args: str) -> list[str]:
    return ["replay", str(run), "--target", url, "--speed", "30", "--max-lag-ms", "100000",
            "--out", str(out), *args]  # fmt: skip


def requests_logged(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in sorted((out / "requests").glob("part-*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def assert_adds_up(summary: dict[str, Any], out: Path) -> None:
    ev = summary["events"]
    skipped = sum(ev["unmapped"].values()) + sum(ev["skipped_null_field"].values())
    assert ev["sent"] == ev["ok"] + ev["failed"] + ev["unanswered"], ev
    assert ev["sent"] + ev["not_sent"] + skipped == ev["in_file"], ev
    assert all(ev[k] >= 0 for k in ("sent", "ok", "failed", "unanswered", "not_sent")), ev
    rows = requests_logged(out)
    if not any(w.get("lost") for w in summary["workers"]):
        assert len(rows) == ev["sent"], (len(rows), ev)
        assert sum(r["error"] == "unanswered" for r in rows) == ev["unanswered"]
        assert sum(r["error"] is None for r in rows) == ev["ok"]


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_time_cap_against_a_target_that_never_answers(tmp_path: Path, workers: str) -> None:
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    out = tmp_path / "out"
    with FaultServer(lambda n: "hang") as server:
        argv = replay_argv(tmp_path / "run", server.url, out, "--timeout", "6", "--workers", workers)
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        received = server.received
    summary = json.loads((out / "summary.json").read_text())
    assert exit_.value.code == 4 and summary["stopped_by"] == "time_cap"
    assert_adds_up(summary, out)
    ev = summary["events"]
    assert ev["sent"] == received  # every request that reached the server is counted as sent
    assert ev["unanswered"] > 0 and ev["ok"] == 0


def _start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "parcours", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workers", "sig", "code"),
    [
        ("1", signal.SIGINT, 130),
        ("2", signal.SIGINT, 130),
        ("1", signal.SIGTERM, 143),
        ("2", signal.SIGTERM, 143),
    ],
)
def test_a_stop_against_a_target_that_never_answers(
    tmp_path: Path, workers: str, sig: signal.Signals, code: int
) -> None:
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    out = tmp_path / "out"
    with FaultServer(lambda n: "hang") as server:
        proc = _start(replay_argv(tmp_path / "run", server.url, out, "--timeout", "30", "--workers", workers))
        try:
            _wait_for(lambda: server.received >= 6, "requests at the server")
            time.sleep(0.5)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=WAIT_S)
        finally:
            proc.kill()
        received = server.received
    assert proc.returncode == code, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and summary["stopped_by"] == "interrupt"
    assert_adds_up(summary, out)
    assert summary["events"]["sent"] == received and summary["events"]["unanswered"] == received


@pytest.mark.slow
def test_a_worker_killed_mid_replay_is_reported_with_what_it_sent(tmp_path: Path) -> None:
    # 120 events over 20 s at speed 3: a worker killed after the first requests leaves most unsent
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, span_s=60, parts=2)
    out = tmp_path / "out"
    with FaultServer(lambda n: "ok") as server:
        argv = replay_argv(tmp_path / "run", server.url, out, "--workers", "2", "--timeout", "2")
        argv[argv.index("--speed") + 1] = "3"
        proc = _start(argv)
        try:
            _wait_for(lambda: server.received >= 30, "requests at the server")
            time.sleep(1.5)  # past a snapshot of the worker's counts
            workers = [p for p in psutil.Process(proc.pid).children() if "--worker" in p.cmdline()]
            assert len(workers) == 2
            workers[1].kill()
            _, err = proc.communicate(timeout=WAIT_S)
        finally:
            proc.kill()
        received = server.received
    summary = json.loads((out / "summary.json").read_text())
    assert proc.returncode == 1, err
    lost = [w for w in summary["workers"] if w.get("lost")]
    assert len(lost) == 1 and lost[0]["sent"] > 0, summary["workers"]
    assert "lost" in summary["failed_reason"] and "lost" in summary["events"]["not_sent_reason"]
    assert_adds_up(summary, out)
    assert summary["events"]["sent"] <= received
    assert summary["events"]["not_sent"] > 0
    # the survivor's log is whole; the lost worker's unfinished part is not taken for a finished one
    assert len(list((out / "requests").glob("part-*.parquet"))) == 1


def test_fail_on_thresholds_are_recorded_with_the_ones_crossed(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=4, events=5, span_s=5)
    out = tmp_path / "out"
    with FaultServer(lambda n: "5xx" if n % 2 else "ok") as server:
        argv = replay_argv(tmp_path / "run", server.url, out, "--fail-on", "errors=0,p99_ms=100000")
        with pytest.raises(SystemExit) as exit_:
            main(argv)
    summary = json.loads((out / "summary.json").read_text())
    assert exit_.value.code == 1
    assert summary["fail_on"] == {"errors": 0.0, "p99_ms": 100000.0}
    assert [c["name"] for c in summary["fail_on_crossed"]] == ["errors"]
    assert summary["failed_reason"].startswith(f"errors {summary['events']['failed']} > 0")


def test_fail_on_check_violations_needs_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_run(tmp_path / "run", customers=2, events=2)
    with pytest.raises(SystemExit) as exit_:
        main(["replay", str(tmp_path / "run"), "--target", "http://127.0.0.1:9", "--dry-run",
              "--fail-on", "check_violations=0"])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "check_violations" in err[0] and "--check" in err[0]
