"""Shared helpers of the replay tests: run directories with known events, a recording HTTP server, and
``replay``, the command run in the test's process.

The server is the standard library's threading HTTP server on 127.0.0.1 (nothing of parcours), so it
checks the replay from the outside: it writes down every request it receives, with its arrival time,
and can answer late, stall, fail or hang up on purpose.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from parcours.cli.main import main
from parcours.output.rundir import ParquetSink, RunWriter
from parcours.output.schema import EVENT_CODE, EVENT_SCHEMA, event_batch
from parcours.vocabulary import EventType
from tests.support import made_manifest, write_empty_truth

T0_MS = 1_732_442_400_000  # 2024-11-24 10:00:00 UTC
PERSONAS = ["young", "traditional", "office_worker"]


@dataclass(frozen=True)
class Events:
    """The events a test run holds, by event id."""

    customer: dict[int, int]
    ts_ms: dict[int, int]
    event_type: dict[int, str]

    def ids_of(self, customer: int) -> list[int]:
        return sorted(
            (e for e, c in self.customer.items() if c == customer), key=lambda e: (self.ts_ms[e], e)
        )


def make_run(
    out: Path,
    *,
    customers: int = 20,
    events: int = 10,
    span_s: float = 60.0,
    parts: int = 1,
    types: tuple[EventType, ...] = (EventType.PAGE_VIEW,),
    timezone: str = "UTC",
    start_ms: int = T0_MS,
) -> Events:
    """``customers`` x ``events`` events spread evenly over ``span_s`` simulated seconds.

    Customer c's k-th event is at ``k * span_s / events`` seconds plus c * 37 ms (so customers do not
    all move at once); its type cycles through ``types``. Customers are dealt to parts by c % parts.
    """
    writer = RunWriter(out)
    cust = np.repeat(np.arange(customers), events)
    k = np.tile(np.arange(events), customers)
    ts = start_ms + np.round(k * span_s * 1000 / events).astype(np.int64) + cust * 37
    type_codes = np.array([EVENT_CODE[t] for t in types], np.int8)[k % len(types)]
    ids = np.arange(len(cust), dtype=np.int64) + 1000
    for p in range(parts):
        rows = np.flatnonzero(cust % parts == p)
        rows = rows[np.lexsort((ids[rows], ts[rows]))]
        n = len(rows)
        none = np.full(n, -1, np.int64)
        columns: dict[str, Any] = {
            "event_id": ids[rows],
            "seq": ids[rows],
            "ts": ts[rows],
            "customer_id": cust[rows],
            "visible_id": pa.array([f"cust-{c}" for c in cust[rows]]),
            "persona": (cust[rows] % len(PERSONAS)).astype(np.int8),
            "channel": (k[rows] % 3).astype(np.int8),
            "event_type": type_codes[rows],
            "session_id": cust[rows],
            "journey_id": cust[rows],
            "product_id": (k[rows] + 1).astype(np.int64),
            "store_id": none,
            "campaign_id": none,
            "quantity": np.ones(n, np.int64),
            "amount_cents": none,
            "wait_s": np.full(n, np.nan),
            "shard": np.full(n, p, np.int32),
        }
        with ParquetSink(writer.events_part(p), EVENT_SCHEMA) as sink:
            sink.write(event_batch(columns, PERSONAS))
    write_empty_truth(writer, parts)
    per_part = [int((cust % parts == p).sum()) for p in range(parts)]
    writer.finish(
        made_manifest(
            out,
            events_per_shard=per_part,
            first_ms=int(ts.min()),
            last_ms=int(ts.max()),
            timezone=timezone,
            customers=customers,
            personas=PERSONAS,
        )
    )
    names = list(EventType)
    return Events(
        customer=dict(zip(ids.tolist(), cust.tolist(), strict=True)),
        ts_ms=dict(zip(ids.tolist(), ts.tolist(), strict=True)),
        event_type={int(i): names[c].value for i, c in zip(ids, type_codes, strict=True)},
    )


@dataclass
class Arrival:
    event_id: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    arrived: float  # time.time() when the request was read
    answered: float = 0.0  # time.time() when the answer went out


@dataclass
class Recorder:
    """What the server received; ``behave`` decides the answer: (status, delay_s) or None to hang up."""

    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    behave: Callable[[Arrival], tuple[int, float] | None] = lambda a: (200, 0.0)

    def ids(self) -> list[int]:
        return [a.event_id for a in self.arrivals]


def _handler(rec: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one answer must not wait 40 ms for a delayed ACK

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            arrival = Arrival(
                int(self.headers.get("X-Parcours-Event-Id", "-1")),
                self.command,
                self.path,
                {k: v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
                time.time(),
            )
            with rec.lock:
                rec.arrivals.append(arrival)
            answer = rec.behave(arrival)
            if answer is None:
                self.close_connection = True  # hang up without a word
                return
            status, delay = answer
            if delay:
                time.sleep(delay)
            arrival.answered = time.time()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            if self.command == "POST" and self.path == "/sessions":
                self.send_header("Set-Cookie", f"sid=s{arrival.event_id}; Path=/")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer is what the fault tests ask for


@contextmanager
def recording_server(
    behave: Callable[[Arrival], tuple[int, float] | None] | None = None,
) -> Iterator[tuple[str, Recorder]]:
    """A recording HTTP server on 127.0.0.1 for the duration of the block: yields (url, recorder)."""
    rec = Recorder() if behave is None else Recorder(behave=behave)
    server = _Server(("127.0.0.1", 0), _handler(rec))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", rec
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port held bound but not listening for the block: connections to it are refused, and
    no other test running beside this one can take it meanwhile (a port closed again could be)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def load_summary(out: Path) -> dict[str, Any]:
    (replay,) = sorted((out / "replays").iterdir())
    return dict(json.loads((replay / "summary.json").read_text()))


def replay(
    run: Path, target: str, *args: str, out: Path | None = None, defaults: Sequence[str] = ()
) -> tuple[int, dict[str, Any]]:
    """`parcours replay RUN --target TARGET ARGS` in this process (Locust in its own): the exit code and
    summary.json, from ``out`` or else from the run's one replay. ``defaults`` are option/value pairs
    added unless ``args`` gives the option."""
    argv = ["replay", str(run), "--target", target, *args]
    for option, value in zip(defaults[::2], defaults[1::2], strict=True):
        if option not in args:
            argv += [option, value]
    if out is not None:
        argv += ["--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
        raise SystemExit(0)
    summary = load_summary(run) if out is None else dict(json.loads((out / "summary.json").read_text()))
    return int(exit_.value.code or 0), summary
