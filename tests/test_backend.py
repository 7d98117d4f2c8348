"""The reference backend as a real process: `parcours backend` on a free loopback port, its own database.

Each test talks HTTP to it (urllib, or a raw socket for what no client would send) and checks the
answer and the state left behind.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.backend_support import backend, call


def raw_exchange(url: str, data: bytes, wait_s: float = 3.0) -> bytes:
    """Send bytes as they are; everything the server answers until it closes or goes quiet."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait_s) as s:
        s.sendall(data)
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def counts(url: str) -> dict[str, int]:
    status, stats = call(f"{url}/stats")
    assert status == 200
    return dict(stats["entities"])


def test_a_journey_across_channels_is_kept_whole(tmp_path: Path) -> None:
    with backend("--db", str(tmp_path / "shop.sqlite3")) as (url, _):
        status, opened = call(
            f"{url}/sessions", "POST", {"visible_id": "mobile_app-1", "channel": "mobile_app"}
        )
        assert status == 201 and opened["account"] is None
        sid = {"Cookie": f"sid=s{opened['session']}"}
        status, login = call(
            f"{url}/identity/login",
            "POST",
            {"visible_id": "mobile_app-1", "channel": "mobile_app", "account_id": "acct-7"},
            headers=sid,
        )
        assert status == 200 and login == {"account": "acct-7", "linked": ["mobile_app-1"]}
        # the device is now the account's: its next session is recognised, its cart is the account's
        assert (
            call(f"{url}/sessions", "POST", {"visible_id": "mobile_app-1", "channel": "mobile_app"})[1][
                "account"
            ]
            == "acct-7"
        )
        assert call(f"{url}/carts/mobile_app-1/items", "POST", {"product_id": 5, "quantity": 2})[0] == 201
        status, cart = call(f"{url}/carts/acct-7/checkout", "POST")  # on another channel, as the account
        assert status == 200 and cart == {"cart_id": "acct-7", "items": 2, "products": [5]}
        # an order placed online, prepared by a store, collected there, then returned
        status, order = call(f"{url}/orders", "POST", {"visible_id": "acct-7", "channel": "desktop_web",
                                                       "product_id": 5, "quantity": 1})  # fmt: skip
        assert status == 201 and order["status"] == "placed"
        ready = call(f"{url}/orders/ready", "POST", {"visible_id": "acct-7", "store_id": 3, "product_id": 5})[
            1
        ]
        assert ready["order_id"] == order["order_id"] and ready["notification_id"] is not None
        picked = call(f"{url}/stores/3/pickups", "POST", {"visible_id": "acct-7", "product_id": 5})[1]
        assert picked == {"order_id": order["order_id"], "status": "collected"}
        assert call(f"{url}/orders/{order['order_id']}")[1]["fulfilment"] == "click_collect"
        back = call(f"{url}/returns", "POST", {"visible_id": "acct-7", "product_id": 5, "kind": "return"})
        assert back[0] == 201 and back[1]["order_id"] == order["order_id"]
        assert call(f"{url}/orders/{order['order_id']}", "PATCH", {"status": "placed"})[0] == 409
        assert call(f"{url}/sessions/current", "DELETE", headers=sid)[1] == {"closed": True}
        assert call(f"{url}/sessions/current", "DELETE", headers=sid)[1] == {"closed": False}
        stock = call(f"{url}/products/5/stock?store_id=3")[1]
        assert stock["quantity"] > 0
        profile = call(f"{url}/customers/mobile_app-1")[1]
        assert profile["account"] == "acct-7" and profile["orders"] == 1
        metrics = call(f"{url}/metrics")[1]
        assert 'parcours_backend_requests_total{method="POST",route="/orders",status="201"} 1' in metrics
        assert 'parcours_backend_entities{entity="orders"} 1' in metrics
        assert "parcours_backend_request_duration_seconds_bucket" in metrics


def test_silos_do_not_link_identities_or_share_carts(tmp_path: Path) -> None:
    with backend("--db", str(tmp_path / "db"), "--level", "multichannel") as (url, _):
        opened = call(f"{url}/sessions", "POST", {"visible_id": "mobile_web-1", "channel": "mobile_web"})[1]
        login = call(f"{url}/identity/login", "POST", {"visible_id": "mobile_web-1", "channel": "mobile_web",
                     "account_id": "acct-1"}, headers={"Cookie": f"sid=s{opened['session']}"})[1]  # fmt: skip
        assert login == {"account": "acct-1", "linked": []}
        call(f"{url}/carts/mobile_web-1/items", "POST", {"product_id": 9})
        assert call(f"{url}/carts/acct-1")[1]["items"] == 0


BAD_REQUESTS = [
    ("malformed JSON", "POST", "/carts/a/items", b'{"product_id": 4', "application/json", 422),
    (
        "negative quantity",
        "POST",
        "/carts/a/items",
        b'{"product_id": 4, "quantity": -2}',
        "application/json",
        422,
    ),
    (
        "huge id",
        "POST",
        "/carts/a/items",
        b'{"product_id": 99999999999999999999999}',
        "application/json",
        422,
    ),
    (
        "lone surrogate",
        "POST",
        "/sessions",
        b'{"visible_id": "\\ud800", "channel": "x"}',
        "application/json",
        422,
    ),
    ("wrong content type", "POST", "/carts/a/items", b'{"product_id": 4}', "text/plain", 415),
    ("unknown order", "GET", "/orders/12345", None, None, 404),
    ("unknown customer", "GET", "/customers/nobody", None, None, 404),
    ("not in the cart", "DELETE", "/carts/a/items/4", None, None, 404),
    ("unknown route", "GET", "/nowhere", None, None, 404),
    ("bad status", "PATCH", "/orders/1", b'{"status": "lost"}', "application/json", 422),
]


def test_bad_requests_get_a_json_4xx_and_change_nothing(tmp_path: Path) -> None:
    with backend("--db", str(tmp_path / "db"), "--max-body-kb", "4") as (url, proc):
        before = counts(url)
        for what, method, path, body, kind, expected in BAD_REQUESTS:
            status, answer = call(
                f"{url}{path}", method, raw=body, headers={"Content-Type": kind} if kind else {}
            )
            assert status == expected, what
            assert isinstance(answer, dict) and answer, what  # a JSON error
        big = b'{"events": "' + b"x" * 5000 + b'"}'
        assert call(f"{url}/ingest", "POST", raw=big)[0] == 413
        assert counts(url) == before
        for sid in ("s9999999999999999999", "s", "x1", ""):  # a session no one was given
            assert call(f"{url}/sessions/current", "DELETE", headers={"Cookie": f"sid={sid}"})[1] == {
                "closed": False
            }
        # what the old hand-written server looped on or answered twice: one 400, then the connection closes
        for length in (b"-100000", b"-3"):
            answer = raw_exchange(
                url, b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\nabc"
            )
            assert answer.startswith(b"HTTP/1.1 400") and answer.count(b"HTTP/1.1") == 1
        huge_header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
        assert raw_exchange(url, huge_header).split(b" ", 2)[1] in (b"400", b"431")
        assert counts(url) == before
        assert call(f"{url}/health")[0] == 200  # and it still serves
    assert proc.returncode == 143  # uvicorn shuts down, re-raises the signal: exit 143, as README says


def test_idle_connections_are_closed(tmp_path: Path) -> None:
    with backend("--memory", "--idle-timeout", "1") as (url, _):
        started = time.monotonic()
        answer = raw_exchange(url, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", wait_s=10)
        assert answer.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 8  # the server hung up on the idle keep-alive connection


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite3"
    with backend("--db", str(db)) as (url, _):
        call(f"{url}/carts/acct-1/items", "POST", {"product_id": 3, "quantity": 4})
        order = call(
            f"{url}/orders", "POST", {"visible_id": "acct-1", "channel": "mobile_app", "product_id": 3}
        )[1]
        call(f"{url}/ingest", "POST", [{"event_id": 1}, {"event_id": 2}])
    with sqlite3.connect(db) as con:  # written to the file, in WAL mode
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with backend("--db", str(db)) as (url, _):
        assert call(f"{url}/carts/acct-1")[1]["items"] == 4
        assert call(f"{url}/orders/{order['order_id']}")[1]["product_id"] == 3
        assert counts(url)["events"] == 2


def test_off_loopback_it_needs_a_token(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "parcours.cli.main", "backend", "--host", "0.0.0.0", "--memory"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "parcours: error: --host 0.0.0.0: bound beyond this machine, the backend needs a shared token "
        "(--token or PARCOURS_BACKEND_TOKEN)"
    ]
    with backend("--memory", "--token", "s3cret") as (url, proc):
        assert call(f"{url}/health")[0] == 200
        assert call(f"{url}/stats")[0] == 401
        assert call(f"{url}/stats", headers={"X-Parcours-Token": "wrong"})[0] == 401
        assert call(f"{url}/stats", headers={"X-Parcours-Token": "s3cret"})[0] == 200
        assert call(f"{url}/stats", headers={"Authorization": "Bearer s3cret"})[0] == 200
    assert proc.returncode == 143


def test_a_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    proc = subprocess.run(
        [sys.executable, "-m", "parcours.cli.main", "backend", "--db", str(notes), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "is not an SQLite database" in proc.stderr
    assert notes.read_text() == "my notes\n"
    theirs = tmp_path / "theirs.sqlite3"
    with contextlib.closing(sqlite3.connect(theirs)) as con:
        con.execute("CREATE TABLE payroll(name TEXT)")
        con.commit()
    before = theirs.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "parcours.cli.main", "backend", "--db", str(theirs), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "did not write" in proc.stderr
    assert theirs.read_bytes() == before
