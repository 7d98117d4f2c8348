"""Connections that hold the server without asking anything are closed: idle and header timeouts.

uvicorn arms its keep-alive timeout only after a response, so a client that connects and says
nothing, or sends a request head a byte at a time (slowloris), keeps its connection, and a slot of
``limit_concurrency``, for as long as it likes. This protocol (uvicorn's httptools one, which
``uvicorn[standard]`` uses) also arms the idle timeout when a connection opens, and gives a request
``header_timeout_s`` from its first byte to arrive whole (head and body); past it, the connection is
answered 408 and closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = b'{"error": "the request did not arrive whole in time"}'
TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + _BODY
)


class TimedProtocol(HttpToolsProtocol):
    """uvicorn's protocol, with an idle timer from the first moment and a deadline per request."""

    header_timeout_s = 10.0  # set per server by ``protocol``

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.request_deadline: asyncio.TimerHandle | None = None
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._clear_deadline()
        self.request_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def on_message_complete(self) -> None:
        self._clear_deadline()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._clear_deadline()
        super().connection_lost(exc)

    def _clear_deadline(self) -> None:
        if getattr(self, "request_deadline", None) is not None:
            self.request_deadline.cancel()  # type: ignore[union-attr]
            self.request_deadline = None

    def _too_slow(self) -> None:
        self.request_deadline = None
        if not self.transport.is_closing():
            self.transport.write(TIMEOUT_ANSWER)
            self.transport.close()


def protocol(header_timeout_s: float) -> type[Any]:
    """The protocol class for ``uvicorn.Config(http=...)``, with this server's header timeout."""
    return type("TimedProtocol", (TimedProtocol,), {"header_timeout_s": header_timeout_s})
