"""What every request passes before a route: the shared token, size and content-type limits, metrics.

A plain ASGI middleware (no per-request task or body copy), so it costs a few microseconds. A request
over a limit is answered here with a 4xx and a JSON error and never reaches the store.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from parcours.backend.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
OPEN_PATHS = frozenset({"/health"})  # answered without the token: a load balancer's probe


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1_048_576
    max_header_bytes: int = 16_384


async def refuse(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: ASGIApp, limits: Limits, token: str | None, metrics: Metrics) -> None:
        self.app = app
        self.limits = limits
        self.token = token.encode() if token else None
        self.metrics = metrics

    def problem(self, scope: Scope) -> tuple[int, str] | None:
        """Why this request is refused before routing, or None."""
        headers: dict[bytes, bytes] = {}
        size = 0
        for name, value in scope["headers"]:
            headers[name] = value
            size += len(name) + len(value)
        if size > self.limits.max_header_bytes:
            return 431, f"headers over {self.limits.max_header_bytes} bytes"
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            given = headers.get(b"x-parcours-token") or headers.get(b"authorization", b"").removeprefix(
                b"Bearer "
            )
            if not hmac.compare_digest(given, self.token):
                return 401, "a valid token is required (X-Parcours-Token or Authorization: Bearer)"
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "Content-Length must be a non-negative integer"
            if int(length) > self.limits.max_body_bytes:
                return 413, f"body over {self.limits.max_body_bytes} bytes"
        elif b"transfer-encoding" in headers:
            return 411, "a body needs a Content-Length"
        if scope["method"] in WITH_BODY and length not in (None, b"0"):
            kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if kind != b"application/json" and not kind.endswith(b"+json"):
                return 415, "the body must be application/json"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        problem = self.problem(scope)
        if problem is not None:
            await refuse(sending, *problem)
        else:
            await self.app(scope, receive, sending)
        route = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.observe(scope["method"], name, status[0], time.perf_counter() - started)
