"""Replay throughput next to a bare Locust FastHttpUser loop, same server, same machine, same run.

    .venv/bin/python benchmarks/bench_replay.py [--rounds 2] [--connections 50] [--seconds 10]

1. capacity: a bare loop (FastHttpUser, ``--connections`` users, no wait, POSTing an ingest-sized
   JSON body) against ``--seconds`` of steady state, then ``parcours replay`` of a run whose events
   are all due at once (so it sends as fast as it can) with as many connections; rounds alternate
   so that noise from other work on the machine hits both. Reported: requests/s and their ratio.
2. lag at half capacity: a replay of events arriving at random (seeded) at half the bare loop's
   rate; reported: schedule lag and lag p50/p99, order violations.

The server is nginx when it is on PATH (or NGINX=/path), else benchmarks/fast_server.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE
from typing import Any

import numpy as np
import pyarrow as pa

from parcours.output.manifest import Manifest
from parcours.output.rundir import CUSTOMERS_DIR, JOURNEYS_DIR, ParquetSink, RunWriter, part_name
from parcours.output.schema import (
    CUSTOMER_SCHEMA,
    EVENT_CODE,
    EVENT_SCHEMA,
    JOURNEY_SCHEMA,
    SCHEMA_VERSION,
    event_batch,
)
from parcours.vocabulary import EventType

HERE = Path(__file__).parent
T0_MS = 1_732_442_400_000
# the size and shape of what the ingest mapping sends for one event
BODY = json.dumps(
    {
        "event_id": 123456,
        "ts": "2024-11-24T10:00:00.000Z",
        "visible_id": "cust-1234",
        "persona": "young",
        "channel": "mobile_app",
        "event_type": "page_view",
        "session_id": 1234,
        "journey_id": 1234,
        "product_id": 17,
        "store_id": None,
        "campaign_id": None,
        "quantity": 1,
        "amount_cents": None,
    }
)

BARE_LOCUSTFILE = """
import json, os, time
from locust import FastHttpUser, constant, events, task

BODY = os.environ["BENCH_BODY"].encode()
WARMUP, END = float(os.environ["BENCH_WARMUP"]), float(os.environ["BENCH_END"])
state = {"count": 0, "t0": None}

@events.test_start.add_listener
def started(**kw):
    state["t0"] = time.monotonic()

@events.request.add_listener
def counted(**kw):
    if state["t0"] is not None and WARMUP <= time.monotonic() - state["t0"] < END:
        state["count"] += 1

@events.quitting.add_listener
def report(**kw):
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump({"requests": state["count"], "seconds": END - WARMUP}, f)

class Loop(FastHttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        headers = {"Content-Type": "application/json", "X-Visible-Id": "cust-1"}
        self.client.post("/ingest", data=BODY, headers=headers)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server() -> Iterator[tuple[str, str]]:
    """A fast server on 127.0.0.1: (url, what it is)."""
    port = free_port()
    nginx = os.environ.get("NGINX") or shutil.which("nginx")
    with tempfile.TemporaryDirectory() as tmp:
        if nginx:
            conf = Path(tmp) / "nginx.conf"
            conf.write_text(
                f"daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
                "events { worker_connections 4096; }\n"
                f"http {{ access_log off; keepalive_requests 1000000; client_body_temp_path {tmp}; "
                f'server {{ listen 127.0.0.1:{port}; location / {{ return 202 "{{}}"; }} }} }}\n'
            )
            proc = subprocess.Popen([nginx, "-c", str(conf), "-p", tmp])
            time.sleep(0.5)
            what = f"nginx ({nginx})"
        else:
            proc = subprocess.Popen([sys.executable, str(HERE / "fast_server.py"), str(port)], stdout=PIPE)
            assert proc.stdout is not None
            proc.stdout.readline()
            what = "benchmarks/fast_server.py (asyncio)"
        try:
            yield f"http://127.0.0.1:{port}", what
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()


def synthetic_run(out: Path, *, events: int, customers: int, span_s: float, seed: int) -> Path:
    """``events`` page views of ``customers`` customers at random (seeded) times over ``span_s``."""
    rng = np.random.default_rng(seed)
    ts = T0_MS + np.sort(rng.integers(0, int(span_s * 1000) + 1, events))
    cust = rng.integers(0, customers, events)
    ids = np.arange(events, dtype=np.int64)
    none = np.full(events, -1, np.int64)
    writer = RunWriter(out, overwrite=True)
    columns: dict[str, Any] = {
        "event_id": ids, "seq": ids, "ts": ts, "customer_id": cust,
        "visible_id": pa.array([f"cust-{c}" for c in cust]), "persona": np.zeros(events, np.int8),
        "channel": np.zeros(events, np.int8), "event_type": np.full(events, EVENT_CODE[EventType.PAGE_VIEW]),
        "session_id": cust, "journey_id": cust, "product_id": ids % 100, "store_id": none,
        "campaign_id": none, "quantity": np.ones(events, np.int64), "amount_cents": none,
        "wait_s": np.full(events, np.nan), "shard": np.zeros(events, np.int32),
    }  # fmt: skip
    with ParquetSink(writer.events_part(0), EVENT_SCHEMA) as sink:
        sink.write(event_batch(columns, ["young"]))
    for folder, schema in ((CUSTOMERS_DIR, CUSTOMER_SCHEMA), (JOURNEYS_DIR, JOURNEY_SCHEMA)):
        writer.path(folder).mkdir()
        ParquetSink(writer.path(folder) / part_name(0), schema).close()  # ground truth: none
    writer.finish(Manifest.from_json(_manifest(out, events, customers, int(ts[-1])), out))
    return out


def _manifest(out: Path, events: int, customers: int, last_ms: int) -> dict[str, Any]:
    """A complete run.json for the synthetic run: UTC days from T0_MS's to the last event's."""
    first = dt.datetime.fromtimestamp(T0_MS / 1000, dt.UTC).date()
    days = (dt.datetime.fromtimestamp(last_ms / 1000, dt.UTC).date() - first).days + 1
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    return {
        "schema_version": SCHEMA_VERSION, "parcours_version": "bench", "path": str(out),
        "scenario": {"name": "bench", "integration": "omnichannel",
                     "calendar": {"start": first.isoformat(), "timezone": "UTC", "days": days}},
        "personas": {"young": {"name": "young"}}, "seed": 0, "shards": 1, "events_per_shard": [events],
        "timezone": "UTC", "start": start.isoformat(), "end": (start + dt.timedelta(days=days)).isoformat(),
        "counts": {"customers": customers, "customers_listed": 0, "events": events, "sessions": 0,
                   "journeys": 0},
        "customers_by_persona": {"young": customers},
        "resources": {"phone_agents": 0, "chat_agents": 0, "preparers_per_store": 1},
        "wall_time_s": 0.0, "events_per_s": None, "created_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip


def bare_loop(url: str, users: int, seconds: float, tmp: Path) -> float:
    """Requests/s of a FastHttpUser loop over ``seconds`` of steady state (after a 2 s warm-up)."""
    locustfile, out = tmp / "bare_locustfile.py", tmp / "bare.json"
    locustfile.write_text(BARE_LOCUSTFILE)
    env = {**os.environ, "BENCH_BODY": BODY, "BENCH_WARMUP": "2", "BENCH_END": str(2 + seconds)}
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url,
               "-u", str(users), "-r", str(users), "--run-time", f"{int(seconds + 3)}s",
               "--only-summary"]  # fmt: skip
    subprocess.run(
        command, env={**env, "BENCH_OUT": str(out)}, check=False, capture_output=True, timeout=seconds + 60
    )
    result = json.loads(out.read_text())
    return float(result["requests"] / result["seconds"])


def replay(url: str, run: Path, speed: float, connections: int, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "parcours", "replay", str(run), "--target", url,
               "--speed", str(speed), "--connections", str(connections), "--mapping", "ingest",
               "--max-lag-ms", "1000000", "--out", str(out)]  # fmt: skip
    subprocess.run(command, check=False, capture_output=True, timeout=600)
    return dict(json.loads((out / "summary.json").read_text()))


def capacity_round(url: str, args: argparse.Namespace, tmp: Path, r: int) -> tuple[float, float]:
    """One bare loop, then one saturated replay of as many events: both rates, in requests/s."""
    bare = bare_loop(url, args.connections, args.seconds, tmp)
    events = int(bare * args.seconds)  # about as long as the bare loop, all due within 0.1 s
    run = synthetic_run(tmp / f"dense{r}", events=events, customers=max(1, events // 12), span_s=60, seed=r)
    summary = replay(url, run, speed=600, connections=args.connections, out=tmp / f"dense{r}-replay")
    assert summary["events"]["ok"] == events and summary["order_violations"] == 0, summary["events"]
    rate = float(summary["requests_per_s"])
    print(
        f"round {r + 1}: bare loop {bare:,.0f} req/s, replay {rate:,.0f} req/s ({rate / bare:.0%}), "
        f"{events:,} events"
    )
    return bare, rate


def lag_at(url: str, rate: float, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """A replay of events arriving at random at ``rate`` per second for ``--seconds``."""
    run = synthetic_run(
        tmp / "half", events=int(rate * args.seconds), customers=2000, span_s=args.seconds, seed=99
    )
    return replay(url, run, speed=1.0, connections=args.connections, out=tmp / "half-replay")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="steady state of each bare loop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, server() as (url, what):
        tmp = Path(tmp_name)
        print(f"server: {what}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
        rounds = [capacity_round(url, args, tmp, r) for r in range(args.rounds)]
        ratio = statistics.median(rate / bare for bare, rate in rounds)
        print(f"replay / bare loop: {ratio:.0%} (median of {args.rounds} rounds; target >= 90%)")
        half = statistics.median(bare for bare, _ in rounds) / 2
        summary = lag_at(url, half, args, tmp)
        lat, sent = summary["latency_ms"], summary["events"]["sent"]
        print(
            f"at half capacity ({half:,.0f} req/s, {sent:,} events over {args.seconds:g} s): "
            f"schedule lag p50 {lat['schedule_lag']['p50']:.2f} ms, p99 {lat['schedule_lag']['p99']:.2f} ms; "
            f"lag p99 {lat['lag']['p99']:.2f} ms (target <= 10 ms); "
            f"service p99 {lat['service']['p99']:.2f} ms; "
            f"order violations {summary['order_violations']}; errors {summary['events']['failed']}"
        )


if __name__ == "__main__":
    main()
