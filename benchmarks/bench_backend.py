"""The reference backend's own throughput: requests/s and latency percentiles under a closed loop.

    .venv/bin/python benchmarks/bench_backend.py            # --connections 8,32 --seconds 8 --rounds 2

A client process (asyncio on raw sockets, requests pre-encoded, one keep-alive connection per
simulated customer) sends a cross-channel journey mix as fast as answers come back: open a session,
page and product views, stock check, cart add, login, checkout, order, an ingested event, close the
session. Each round runs against `parcours backend` (SQLite file, WAL) and, as the baseline in the
same run, against benchmarks/fast_server.py (a canned 202, nothing stored): the ratio says what the
backend's work costs, and the baseline's rate says the client was not the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def journey(i: int) -> list[bytes]:
    """One customer's requests, pre-encoded; the cookie is the session the backend will give."""
    vid, acct = f"mobile_app-{i}", f"acct-{i}"

    def req(method: str, path: str, body: object = None, cookie: bool = False) -> bytes:
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(data)}\r\n"
        if data:
            head += "Content-Type: application/json\r\n"
        if cookie:
            head += "Cookie: sid=s1\r\n"
        return head.encode() + b"\r\n" + data

    return [
        req("POST", "/sessions", {"visible_id": vid, "channel": "mobile_app"}),
        req("GET", "/pages/mobile_app"),
        req("GET", f"/products/{i % 500}"),
        req("GET", f"/products/{i % 500}/stock"),
        req("POST", f"/carts/{vid}/items", {"product_id": i % 500, "quantity": 1}),
        req(
            "POST", "/identity/login", {"visible_id": vid, "channel": "mobile_app", "account_id": acct}, True
        ),
        req("POST", f"/carts/{acct}/checkout"),
        req("POST", "/orders", {"visible_id": acct, "channel": "mobile_app", "product_id": i % 500}),
        req(
            "POST",
            "/ingest",
            {"event_id": i, "visible_id": acct, "channel": "push", "event_type": "message_sent"},
        ),
        req("DELETE", "/sessions/current", cookie=True),
    ]


async def read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"content-length:")
    length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
    if length:
        await reader.readexactly(length)
    return status


async def customer(host: str, port: int, i: int, until: float, out: list[float], bad: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    requests = journey(i)
    k = 0
    while (started := time.perf_counter()) < until:
        writer.write(requests[k % len(requests)])
        status = await read_answer(reader)
        out.append(time.perf_counter() - started)
        if status >= 500:
            bad.append(status)
        k += 1
    writer.close()


def client(host: str, port: int, connections: int, seconds: float, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    async def run() -> tuple[list[float], list[int]]:
        out: list[float] = []
        bad: list[int] = []
        until = time.perf_counter() + seconds
        await asyncio.gather(*(customer(host, port, i, until, out, bad) for i in range(connections)))
        return out, bad

    latencies, bad = asyncio.run(run())
    queue.put((latencies, bad))


def measure(port: int, connections: int, seconds: float) -> dict[str, float]:
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    proc = mp.Process(target=client, args=("127.0.0.1", port, connections, seconds, queue))
    proc.start()
    latencies, bad = queue.get()
    proc.join()
    ms = np.asarray(latencies) * 1000
    return {
        "requests_per_s": len(ms) / seconds,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "errors_5xx": float(len(bad)),
    }


@contextmanager
def started(command: list[str], ready: str) -> Iterator[int]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(ready), line
        yield int(line.rsplit(":", 1)[1]) if ready == "listening on" else int(command[-1])
    finally:
        proc.terminate()
        proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", default="8,32", help="closed-loop connections, comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    backend = [sys.executable, "-m", "parcours.cli.main", "backend", "--port", "0", "--db"]
    with tempfile.TemporaryDirectory() as tmp:
        for c in (int(x) for x in args.connections.split(",")):
            for r in range(args.rounds):
                port = free_port()
                with started([sys.executable, str(HERE / "fast_server.py"), str(port)], "ready") as p:
                    base = measure(p, c, args.seconds)
                with started([*backend, f"{tmp}/backend-{c}-{r}.sqlite3"], "listening on") as p:
                    got = measure(p, c, args.seconds)  # a fresh database each round
                ratio = got["requests_per_s"] / base["requests_per_s"]
                print(
                    f"connections {c:>3} round {r + 1}: backend {got['requests_per_s']:>8,.0f} req/s, "
                    f"p50 {got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms, 5xx {got['errors_5xx']:.0f} | "
                    f"baseline fast_server {base['requests_per_s']:>8,.0f} req/s, "
                    f"p99 {base['p99_ms']:.2f} ms | backend/baseline {ratio:.0%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
