"""The reference backend: a small cross-channel retailer API to replay a run against, on loopback.

    parcours backend --port 8080     # or: parcours replay RUN --target builtin

Sessions and login (with cookies), carts, orders, returns, store visits, service contacts, message
clicks and an ingest collector for every other event, all in memory; ``GET /stats`` returns the
counts. The ``reference`` mapping speaks this API. Plain asyncio with a minimal HTTP/1.1 parser
(keep-alive, pipelining, Content-Length bodies): fast enough that the replay, not the backend, is the
bottleneck on one machine, and free of dependencies.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parcours.errors import ParcoursError

MAX_HEAD = 65_536
REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    411: "Length Required",
    431: "Request Header Fields Too Large",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None


@dataclass
class Response:
    status: int
    body: Any = None
    cookies: list[str] = field(default_factory=list)

    def encode(self, keep_alive: bool) -> bytes:
        payload = b"" if self.body is None else json.dumps(self.body).encode()
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Status')}"]
        if payload:
            head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(payload)}")
        head += [f"Set-Cookie: {c}; Path=/; HttpOnly" for c in self.cookies]
        if not keep_alive:
            head.append("Connection: close")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class BadRequest(Exception):
    """A request the API cannot take: answered 400 with the reason."""


Handler = Callable[[Request, list[str]], Response]


class Store:
    """The retailer's state and its API, one method per route."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.sessions: dict[str, str] = {}
        self.carts: dict[str, Counter[int]] = {}
        self._ids = itertools.count(1)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/health"), lambda r, a: Response(200, {"ok": True})),
            ("GET", re.compile(r"/stats"), lambda r, a: Response(200, dict(self.counts))),
            ("POST", re.compile(r"/sessions"), self.open_session),
            ("DELETE", re.compile(r"/sessions/current"), self.close_session),
            ("POST", re.compile(r"/identity/login"), self.login),
            (
                "GET",
                re.compile(r"/pages/([^/]+)"),
                lambda r, a: self.count("pages", Response(200, {"page": a[0]})),
            ),
            (
                "GET",
                re.compile(r"/search"),
                lambda r, a: self.count("searches", Response(200, {"results": []})),
            ),
            (
                "GET",
                re.compile(r"/products/(\d+)"),
                lambda r, a: self.count("products", Response(200, {"id": a[0]})),
            ),
            ("GET", re.compile(r"/products/(\d+)/stock"), self.stock),
            ("POST", re.compile(r"/carts/([^/]+)/items"), self.cart_add),
            ("DELETE", re.compile(r"/carts/([^/]+)/items/(\d+)"), self.cart_remove),
            ("POST", re.compile(r"/carts/([^/]+)/checkout"), self.checkout),
            ("POST", re.compile(r"/orders"), self.created("orders")),
            ("POST", re.compile(r"/returns"), self.created("returns")),
            ("POST", re.compile(r"/stores/(\d+)/visits"), self.accepted("store_visits")),
            ("POST", re.compile(r"/service/contacts"), self.accepted("contacts")),
            ("POST", re.compile(r"/messages/clicks"), self.accepted("clicks")),
            ("POST", re.compile(r"/ingest"), self.ingest),
        ]

    def handle(self, request: Request) -> Response:
        path = request.path.split("?", 1)[0]
        for method, pattern, handler in self.routes:
            m = pattern.fullmatch(path)
            if m and method == request.method:
                try:
                    return handler(request, list(m.groups()))
                except (BadRequest, ValueError) as exc:
                    return Response(400, {"error": str(exc)})
        return Response(404, {"error": f"no route for {request.method} {path}"})

    def count(self, what: str, response: Response, n: int = 1) -> Response:
        self.counts[what] += n
        return response

    def open_session(self, request: Request, _: list[str]) -> Response:
        sid = f"s{next(self._ids)}"
        self.sessions[sid] = request.headers.get("x-visible-id", "")
        return self.count("sessions_opened", Response(201, {"session": sid}, [f"sid={sid}"]))

    def close_session(self, request: Request, _: list[str]) -> Response:
        sid = request.cookie("sid")
        known = sid is not None and self.sessions.pop(sid, None) is not None
        return self.count("sessions_closed" if known else "sessions_closed_unknown", Response(204))

    def login(self, request: Request, _: list[str]) -> Response:
        body = request.json() or {}
        account = str(body.get("visible_id") or request.headers.get("x-visible-id", ""))
        return self.count("logins", Response(200, {"account": account}, [f"account={account}"]))

    def stock(self, request: Request, args: list[str]) -> Response:
        return self.count("stock_checks", Response(200, {"id": args[0], "in_stock": int(args[0]) % 7}))

    def cart_add(self, request: Request, args: list[str]) -> Response:
        body = request.json() or {}
        if not isinstance(body.get("product_id"), int):
            raise BadRequest("product_id: an integer is required")
        cart = self.carts.setdefault(args[0], Counter())
        cart[body["product_id"]] += int(body.get("quantity") or 1)
        return self.count("cart_adds", Response(201, {"items": sum(cart.values())}))

    def cart_remove(self, request: Request, args: list[str]) -> Response:
        cart = self.carts.get(args[0], Counter())
        if not cart.pop(int(args[1]), 0):
            return self.count("cart_removes_missing", Response(404, {"error": "not in the cart"}))
        return self.count("cart_removes", Response(204))

    def checkout(self, request: Request, args: list[str]) -> Response:
        items = sum(self.carts.pop(args[0], Counter()).values())
        return self.count("checkouts", Response(200, {"items": items}))

    def created(self, what: str) -> Handler:
        return lambda request, args: self.count(what, Response(201, {"id": next(self._ids)}))

    def accepted(self, what: str) -> Handler:
        return lambda request, args: self.count(what, Response(202))

    def ingest(self, request: Request, _: list[str]) -> Response:
        body = request.json()
        n = len(body) if isinstance(body, list) else 1
        return self.count("ingested", Response(202, {"accepted": n}), n)


class Connection(asyncio.Protocol):
    """One client connection: parse requests as bytes arrive, answer them in order."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and (request := self._next_request()) is not None:
            keep_alive = request.headers.get("connection", "").lower() != "close"
            self.transport.write(self.store.handle(request).encode(keep_alive))
            if not keep_alive:
                self.transport.close()
                self.transport = None

    def _next_request(self) -> Request | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._refuse(431)
            return None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if "chunked" in headers.get("transfer-encoding", ""):
            self._refuse(411)
            return None
        length = int(headers.get("content-length") or 0)
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        return Request(method, target, headers, body)

    def _refuse(self, status: int) -> None:
        if self.transport is not None:
            self.transport.write(Response(status).encode(keep_alive=False))
            self.transport.close()
            self.transport = None


async def serve(host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM or SIGINT; ``on_ready`` gets the base URL once listening."""
    loop = asyncio.get_running_loop()
    store = Store()
    server = await loop.create_server(lambda: Connection(store), host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sock_port = server.sockets[0].getsockname()[1]
    on_ready(f"http://{host}:{sock_port}")
    async with server:
        await stop.wait()


def run(host: str, port: int) -> None:
    """Serve on ``host:port`` until SIGTERM or SIGINT, saying where once listening."""
    try:
        asyncio.run(serve(host, port, lambda url: print(f"listening on {url}", flush=True)))
    except OSError as exc:
        raise ParcoursError(f"--host/--port: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m parcours.loadtests.backend", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    args = parser.parse_args(argv)
    run(args.host, args.port)


if __name__ == "__main__":
    main()
