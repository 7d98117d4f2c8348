"""Real replays: `parcours replay` starts real Locust processes against a recording server on 127.0.0.1.

Each test checks the replay from the server's side (what arrived, when, in which order, with which
headers) and from the summary; timings only ever get generous tolerances.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from parcours.vocabulary import EventType as E
from tests import replay_support
from tests.replay_support import Arrival, Events, make_run, recording_server

SPEED = 20.0
#: The lag gate for tests whose subject is not the gate: CI runs on a busy two-core machine, where the
#: replay's own schedule lag can reach several hundred milliseconds without anything being wrong.
LAG_GATE_MS = "2000"


#: Every replay here: at SPEED, and the lag gate above unless a test sets its own.
replay = functools.partial(
    replay_support.replay, defaults=("--speed", str(SPEED), "--max-lag-ms", LAG_GATE_MS)
)


def by_customer(arrivals: list[Arrival], events: Events) -> dict[int, list[Arrival]]:
    out: dict[int, list[Arrival]] = defaultdict(list)
    for a in sorted(arrivals, key=lambda a: a.arrived):
        out[events.customer[a.event_id]].append(a)
    return out


def ms(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values) * 1000, q))


SESSION_TYPES = (E.SESSION_START, E.PAGE_VIEW, E.PRODUCT_VIEW, E.CART_ADD, E.SESSION_END)


def test_every_event_once_in_order_on_schedule_with_its_own_cookies(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=30, events=8, span_s=40, types=SESSION_TYPES)
    with recording_server() as (url, server):
        code, summary = replay(tmp_path / "run", url, "--mapping", "reference")
    assert code == 0 and summary["valid"] and summary["order_violations"] == 0
    assert sorted(server.ids()) == sorted(events.customer)  # every event exactly once
    assert summary["events"]["sent"] == summary["events"]["ok"] == 240

    first_ts = min(events.ts_ms.values())
    first_due = min(float(a.headers["X-Parcours-Due"]) for a in server.arrivals)
    for a in server.arrivals:
        due = float(a.headers["X-Parcours-Due"])
        assert due - first_due == pytest.approx(
            (events.ts_ms[a.event_id] - first_ts) / 1000 / SPEED, abs=1e-5
        )
        assert -0.002 < a.arrived - due < 1.0  # sent on time (generous on a loaded machine)
    span = max(a.arrived for a in server.arrivals) - min(a.arrived for a in server.arrivals)
    assert span == pytest.approx((max(events.ts_ms.values()) - first_ts) / 1000 / SPEED, abs=1.0)

    for customer, arrivals in by_customer(server.arrivals, events).items():
        assert [a.event_id for a in arrivals] == events.ids_of(customer)  # in order
        for before, after in zip(arrivals, arrivals[1:], strict=False):
            assert after.arrived >= before.answered - 0.001  # each after the previous response
        sids: dict[str, str] = {}  # one jar per customer and device (channel)
        for a in arrivals:
            sid = sids.get(a.headers["X-Channel"])
            assert a.headers.get("Cookie") == (None if sid is None else f"sid={sid}")  # its own jar only
            if a.path == "/sessions":
                sids[a.headers["X-Channel"]] = f"s{a.event_id}"
        assert len(sids) > 1  # this customer's sessions were on several devices


def test_lag_service_and_corrected_latency_against_a_known_delay(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=20, events=5, span_s=50)
    delay = 0.04
    with recording_server(lambda a: (200, delay)) as (url, server):
        code, summary = replay(tmp_path / "run", url)
    assert code == 0 and len(server.arrivals) == 100
    lat = summary["latency_ms"]
    # service time holds the server's delay and little else; margins hold on a busy two-core machine
    assert 40 <= lat["service"]["p50"] < 200 and lat["service"]["p99"] < 1000
    assert lat["lag"]["p50"] < 200
    # the server's own view of lag (arrival - due header) agrees with the replay's
    server_lag = [a.arrived - float(a.headers["X-Parcours-Due"]) for a in server.arrivals]
    # (the server, a thread of this busy process, may read a request later than it was sent, never earlier)
    assert lat["lag"]["p50"] - 5 <= ms(server_lag, 0.5) < lat["lag"]["p50"] + 250
    # corrected latency = lag + service, and never less than what the server saw from due to answer
    expected = lat["lag"]["p50"] + lat["service"]["p50"]
    assert lat["corrected"]["p50"] == pytest.approx(expected, abs=max(40, 0.3 * expected))
    server_done = [a.answered - float(a.headers["X-Parcours-Due"]) for a in server.arrivals]
    assert lat["corrected"]["p50"] >= ms(server_done, 0.5) - 1
    by_type = summary["by"]["event_type"]["page_view"]["service"]
    assert by_type["count"] == 100 and by_type["p50"] == lat["service"]["p50"]
    assert sum(v["corrected"]["count"] for v in summary["by"]["persona"].values()) == 100
    assert events


def test_a_stalling_server_grows_corrected_latency_not_service_time(tmp_path: Path) -> None:
    # two customers, an event every simulated second (50 ms at speed 20), a server taking 200 ms
    events = make_run(tmp_path / "run", customers=2, events=12, span_s=12)
    with recording_server(lambda a: (200, 0.2)) as (url, server):
        code, summary = replay(tmp_path / "run", url)
    lat = summary["latency_ms"]
    assert code == 0 and summary["valid"]  # the backend was slow, the replay itself kept up
    assert lat["service"]["p90"] < 2 * lat["service"]["p50"]  # service time stays flat
    assert lat["corrected"]["max"] > 4 * lat["service"]["p90"]  # what customers waited keeps growing
    assert lat["corrected"]["p90"] > 2 * lat["service"]["p90"]
    for arrivals in by_customer(server.arrivals, events).values():
        gaps = np.diff([a.arrived for a in arrivals])
        assert (gaps > 0.18).all()  # queued behind the previous response, never sent alongside it


def faulty(a: Arrival) -> tuple[int, float] | None:
    kind = a.event_id % 6
    return {1: (500, 0.0), 2: None, 3: (200, 1.2)}.get(kind, (200, 0.0))


def test_faults_are_counted_per_event_and_the_replay_goes_on(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=10, events=6, span_s=60)
    with recording_server(faulty) as (url, server):
        code, summary = replay(
            tmp_path / "run", url, "--timeout", "0.4", "--fail-on", "error_rate=0.1", out=tmp_path / "faults"
        )
    assert sorted(server.ids()) == sorted(events.customer)  # each sent once, none retried
    assert summary["errors"]["by_kind"] == {"status": 10, "timeout": 10, "closed": 10}
    assert summary["errors"]["by_status"] == {"200": 30, "500": 10}
    assert summary["events"]["ok"] == 30 and summary["events"]["error_rate"] == 0.5
    assert code == 1  # --fail-on error_rate=0.1 crossed
    with (tmp_path / "faults" / "locust_stats.csv").open() as f:
        (total,) = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]
    assert (total["Request Count"], total["Failure Count"]) == ("60", "30")  # Locust's own report agrees


@pytest.mark.parametrize(
    ("behave", "kind"), [(lambda a: (500, 0.0), "status"), (lambda a: None, "closed")], ids=["500", "hang-up"]
)
def test_a_replay_where_no_request_succeeds_fails_and_says_why(
    behave: Any, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every answer a 500 (or every connection dropped): exit 1 by default, even with a latency gate
    that the fast failures pass, and one line on stderr saying why."""
    make_run(tmp_path / "run", customers=10, events=6, span_s=60)
    with recording_server(behave) as (url, server):
        code, summary = replay(tmp_path / "run", url, "--fail-on", "p99_ms=5000", out=tmp_path / "res")
    assert len(server.arrivals) == 60  # the target was reached: every event went out once
    assert code == 1
    assert summary["events"]["ok"] == 0 and summary["errors"]["by_kind"] == {kind: 60}
    assert summary["failed_reason"].startswith("no request succeeded: 60 sent, all failed")
    out, err = capsys.readouterr()
    assert "): FAILED" in out and "FAILED: no request succeeded" in out
    (line,) = err.splitlines()
    assert line.startswith("parcours: replay failed: no request succeeded") and f"{kind} 60" in line


def test_a_replay_that_falls_behind_its_schedule_is_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_run(tmp_path / "run", customers=40, events=2, span_s=2)
    with recording_server(lambda a: (200, 0.05)) as (url, _):
        code, summary = replay(tmp_path / "run", url, "--connections", "1", "--max-lag-ms", "50")
    assert code == 3 and not summary["valid"]
    assert summary["invalid_reason"].startswith("schedule lag p99")
    assert "INVALID: schedule lag p99" in capsys.readouterr().out


def test_builtin_target_runs_the_reference_backend(tmp_path: Path) -> None:
    types = (
        E.SESSION_START,
        E.LOGIN,
        E.SEARCH,
        E.PRODUCT_VIEW,
        E.STOCK_CHECK,
        E.CART_ADD,
        E.CART_REMOVE,
        E.CHECKOUT,
        E.PURCHASE,
        E.MESSAGE_CLICKED,
        E.STORE_ENTER,
        E.SESSION_END,
    )
    make_run(tmp_path / "run", customers=6, events=12, span_s=24, types=types)
    code, summary = replay(tmp_path / "run", "builtin")
    assert code == 0 and summary["mapping"] == "reference"
    ev = summary["events"]
    # store_enter has no store in these events: skipped and counted, the rest all answered as expected
    assert ev["skipped_null_field"] == {"store_enter (null store_id)": 6}
    assert ev["sent"] == ev["ok"] == 66 and ev["not_sent"] == 0


def test_batches_carry_every_event_once_in_customer_order(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=40, events=5, span_s=10)
    with recording_server() as (url, server):
        code, summary = replay(tmp_path / "run", url, "--mapping", "ingest_batch", "--connections", "4")
    assert code == 0 and summary["events"]["ok"] == 200
    bodies = [a.body for a in sorted(server.arrivals, key=lambda a: a.arrived)]
    assert all(isinstance(b, list) for b in bodies) and len(bodies) < 200  # arrays, several events each
    sent = [e["event_id"] for body in bodies for e in body]
    assert sorted(sent) == sorted(events.customer)
    for customer in range(40):
        assert [e for e in sent if events.customer[e] == customer] == events.ids_of(customer)


@pytest.mark.slow
def test_two_workers_split_customers_and_add_up(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=24, events=5, span_s=40, parts=3)
    with recording_server() as (url, server):
        code, summary = replay(tmp_path / "run", url, "--workers", "2", out=tmp_path / "w2")
    assert code == 0 and summary["workers_count"] == summary["workers_reported"] == 2
    assert sorted(server.ids()) == sorted(events.customer)
    workers_of: dict[int, set[str]] = defaultdict(set)
    for a in server.arrivals:
        workers_of[events.customer[a.event_id]].add(a.headers["X-Parcours-Worker"])
    assert all(len(w) == 1 for w in workers_of.values())  # no customer split across workers
    assert set().union(*workers_of.values()) == {"0", "1"}
    per_worker = summary["workers"]
    assert sum(w["sent"] for w in per_worker) == summary["events"]["sent"] == 120
    for w in per_worker:
        assert w["sent"] == sum(
            1 for a in server.arrivals if a.headers["X-Parcours-Worker"] == str(w["index"])
        )
        # each worker logs its own requests in its own Parquet part
        log = pq.read_table(tmp_path / "w2" / "requests" / f"part-{w['index']:05d}.parquet")
        assert log.num_rows == w["sent"] and set(log.column("worker").to_pylist()) == {w["index"]}
    for log in (tmp_path / "w2").glob("locust-*.log"):
        assert "heartbeat" not in log.read_text().lower()  # reading Parquet never stalled the loop
    assert (tmp_path / "w2" / "locust.html").is_file()
    with (tmp_path / "w2" / "locust_stats.csv").open() as f:
        (total,) = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]
    assert total["Request Count"] == "120"  # the workers' last statistics reached the master's report


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_still_writes_what_was_measured(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=50, events=20, span_s=600)  # 30 s at speed 20
    with recording_server() as (url, server):
        cmd = [
            sys.executable,
            "-m",
            "parcours",
            "replay",
            str(tmp_path / "run"),
            "-t",
            url,
            "--speed",
            str(SPEED),
            "--out",
            str(tmp_path / "stopped"),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while len(server.arrivals) < 50 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        received = len(server.arrivals)
    summary = json.loads((tmp_path / "stopped" / "summary.json").read_text())
    assert proc.returncode == 130, err
    assert summary["interrupted"] and "INTERRUPTED" in out
    assert 50 <= summary["events"]["sent"] == received < 1000
    assert summary["events"]["not_sent"] == 1000 - received
