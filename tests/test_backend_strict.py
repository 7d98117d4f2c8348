"""A strict reference backend: integers are integers, wrong methods are 405, every status it answers is in
its OpenAPI description, a full database is a 503 with a reason, SIGTERM is exit 143, connections that
say nothing (or a byte at a time) are closed, and ``--db`` is a regular file or a new path.

`parcours backend` runs as a real process on a free loopback port; a full database is SQLite's own
``max_page_count`` limit reached (the same SQLITE_FULL a full disk gives).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.backend_support import backend, call

#: What the guard in front of every route may answer, besides the route's own statuses.
GUARD = {"400", "411", "413", "415", "431"}


def test_booleans_are_not_integers(tmp_path: Path) -> None:
    with backend("--memory") as (url, _):
        status, answer = call(f"{url}/carts/c1/items", "POST", {"product_id": False})
        assert status == 422 and "product_id" in answer["error"]
        body = {"visible_id": "c1", "channel": "web_desktop", "amount_cents": False}
        assert call(f"{url}/orders", "POST", body)[0] == 422
        assert call(f"{url}/orders", "POST", {**body, "amount_cents": True})[0] == 422
        assert call(f"{url}/carts/c1/items", "POST", {"product_id": 1.5})[0] == 422
        assert call(f"{url}/carts/c1")[1]["items"] == 0  # nothing was added
        assert call(f"{url}/carts/c1/items", "POST", {"product_id": 0})[0] == 201  # product 0 is fine
        assert call(f"{url}/orders", "POST", {**body, "amount_cents": 0})[0] == 201


def test_a_wrong_method_is_405(tmp_path: Path) -> None:
    with backend("--memory") as (url, _):
        for method, path in (("PATCH", "/orders/ready"), ("GET", "/orders/ready"), ("PUT", "/ingest")):
            status, answer = call(f"{url}{path}", method, {"status": "ready"})
            assert status == 405, (method, path, answer)
        assert call(f"{url}/orders/7", "PATCH", {"status": "ready"})[0] == 404  # the route still works


def test_the_openapi_description_lists_every_status(tmp_path: Path) -> None:
    with backend("--memory") as (url, _):
        spec = call(f"{url}/openapi.json")[1]
        seen = {}
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                listed = set(operation["responses"])
                seen[(method, path)] = listed
                assert GUARD | {"405"} <= listed, (method, path, listed)
                if operation.get("requestBody") or operation.get("parameters"):
                    assert "422" in listed, (method, path)
                assert "503" in listed or method == "get", (method, path)
        assert {"404", "409"} <= seen[("patch", "/orders/{order_id}")]
        assert (
            "404" in seen[("get", "/orders/{order_id}")] and "404" in seen[("get", "/customers/{visible_id}")]
        )
        assert "404" not in seen[("post", "/carts/{visible_id}/items")]  # what it cannot answer is not listed
        # what the server answers, seen from outside, is listed for the operation that answered it
        answers = {
            ("get", "/orders/{order_id}", "/orders/99"): None,
            ("patch", "/orders/{order_id}", "/orders/99"): {"status": "ready"},
            ("post", "/carts/{visible_id}/items", "/carts/c/items"): {"product_id": True},
            ("post", "/orders/ready", "/orders/ready"): {"visible_id": ""},
        }
        for (method, path, concrete), body in answers.items():
            status = call(f"{url}{concrete}", method.upper(), body)[0]
            assert str(status) in seen[(method, path)], (method, concrete, status)


def test_a_full_database_is_503_with_a_reason(tmp_path: Path) -> None:
    with backend("--db", str(tmp_path / "full.sqlite3"), fault="full") as (url, proc):
        answers = [call(f"{url}/ingest", "POST", [{"event_id": i, "ts": "x" * 150}] * 200) for i in range(60)]
        statuses = {status for status, _ in answers}
        assert statuses <= {202, 503} and 503 in statuses, statuses
        reason = next(a for s, a in answers if s == 503)["error"]
        assert "full" in reason
        assert call(f"{url}/health")[0] == 200  # it keeps serving what needs no room
    assert proc.returncode == 143 or proc.returncode == -signal.SIGTERM


def test_sigterm_ends_the_backend_with_143(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "parcours", "backend", "--memory", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().startswith("listening on ")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _closed_within(conn: socket.socket, seconds: float, trickle: bytes = b"") -> bool:
    """Whether the server closes ``conn`` within ``seconds`` (sending ``trickle`` a byte every 0.2 s)."""
    deadline = time.monotonic() + seconds
    conn.settimeout(0.2)
    sent = 0
    while time.monotonic() < deadline:
        try:
            if not conn.recv(4096):
                return True
        except TimeoutError:
            pass
        except OSError:
            return True
        if sent < len(trickle):
            try:
                conn.send(trickle[sent : sent + 1])
            except OSError:
                return True
            sent += 1
    return False


@pytest.mark.slow
def test_silent_and_slowloris_connections_are_closed(tmp_path: Path) -> None:
    with backend("--memory", "--idle-timeout", "1", "--header-timeout", "2") as (url, _):
        silent = [_connect(url) for _ in range(20)]
        slow = _connect(url)
        head = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
        assert _closed_within(slow, 15, trickle=head)  # 2 s allowed, at a byte every 0.2 s it needs 48
        assert all(_closed_within(conn, 15) for conn in silent)
        for conn in [*silent, slow]:
            conn.close()
        assert call(f"{url}/health")[0] == 200


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_a_db_that_is_not_a_regular_file_or_a_new_path_is_refused(tmp_path: Path, kind: str) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_bytes(b"")  # a user's empty file: an SQLite database would be 0 bytes too
    db = tmp_path / "db"
    if kind == "fifo":
        os.mkfifo(db)
    elif kind == "symlink":
        db.symlink_to(mine)
    else:
        db.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "parcours", "backend", "--db", str(db), "--port", "0"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("parcours: error: --db:") and len(proc.stderr.splitlines()) == 1
    assert mine.read_bytes() == b""
