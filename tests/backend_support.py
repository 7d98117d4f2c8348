"""Starting the reference backend (or a faulty double of it) as a real process on a free loopback port.

    python -m tests.backend_support --db PATH --fault forgetful    # the faulty double, for the tests

The double is the real server with a repository that misbehaves on purpose: it answers every write
as if it had stored it but drops every other cart item and order (``forgetful``), which is what the
continuity checks must find; or its database can grow by a few pages only (``full``).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from parcours.backend.server import READY_PREFIX, Settings, serve
from parcours.backend.store import Cart, Store


@contextmanager
def backend(*args: str, fault: str | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``parcours backend --port 0 ARGS`` (or the faulty double) running for the block: (url, process)."""
    if fault is None:
        command = [sys.executable, "-m", "parcours.cli.main", "backend", "--port", "0", *args]
    else:
        command = [sys.executable, "-m", "tests.backend_support", "--fault", fault, *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(READY_PREFIX):
            proc.kill()
            raise AssertionError(f"the backend did not start: {line!r} {proc.communicate()[1]}")
        yield line.removeprefix(READY_PREFIX).strip(), proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return int(proc.returncode)


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request; (status, JSON answer or text)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    sent = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers={**sent, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
        exc.close()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class ForgetfulStore(Store):
    """Answers every cart write and order as stored, but drops every other one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes = 0

    def _drop(self) -> bool:
        self.writes += 1
        return self.writes % 2 == 0

    def cart_add(self, visible_id: str, product_id: int, quantity: int) -> Cart:
        if self._drop():
            cart = self.cart(visible_id)
            return Cart(cart.cart_id, cart.items + quantity, sorted({*cart.products, product_id}))
        return super().cart_add(visible_id, product_id, quantity)

    def place_order(self, visible_id: str, channel: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self._drop():
            return {"order_id": 10**9 + self.writes, "status": "placed", "customer": visible_id}
        return super().place_order(visible_id, channel, *args, **kwargs)


class FullStore(Store):
    """A database that can grow by a few pages only: SQLite's own SQLITE_FULL, as on a full disk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + 4}")


FAULTS: dict[str, type[Store]] = {"forgetful": ForgetfulStore, "full": FullStore}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.backend_support")
    parser.add_argument("--fault", choices=sorted(FAULTS), required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    serve(Settings(port=0, db=str(args.db)), store_type=FAULTS[args.fault])


if __name__ == "__main__":
    main()
