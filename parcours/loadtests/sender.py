"""Sending one request for the replay, telling Locust about it, and what became of it (its outcome)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import gevent
from geventhttpclient import HTTPClient
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed
from geventhttpclient.url import URL
from locust.env import Environment

from parcours import __version__
from parcours.loadtests.measure import OK, OUTCOMES


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when there was no response
    error: BaseException | None = None
    set_cookies: tuple[str, ...] = ()
    body: bytes = b""


def classify(reply: Reply, success: frozenset[int]) -> int:
    """The outcome code of a reply: ok, a status the mapping does not accept, or the kind of failure."""
    if reply.status:
        return OK if reply.status in success else OUTCOMES.index("status")
    return OUTCOMES.index(error_kind(reply.error))


def error_kind(error: BaseException | None) -> str:
    """refused, timeout, closed (the peer hung up or answered garbage) or other."""
    while getattr(error, "original", None) is not None:  # geventhttpclient wraps the cause it gave up on
        error = error.original  # type: ignore[union-attr]
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError | gevent.Timeout):
        return "timeout"
    if isinstance(
        error,
        HTTPConnectionClosed
        | HTTPParseError
        | ConnectionResetError
        | BrokenPipeError
        | ConnectionAbortedError,
    ):
        return "closed"
    return "other"


class Sender(Protocol):
    def request(
        self,
        method: str,
        path: str,
        name: str,
        body: bytes | None,
        headers: dict[str, str],
        success: frozenset[int],
    ) -> Reply: ...


class StatusError(Exception):
    """A status the mapping does not count as success, as Locust's statistics list it."""


class LocustSender:
    """Requests through geventhttpclient's HTTPClient, reported to Locust's ``request`` event.

    HTTPClient is the transport under Locust's FastHttpUser; its FastHttpSession wrapper adds what a
    replay does not need per request (parsing the URL, following redirects, a shared cookie jar,
    decoding bodies) and costs about a fifth of a request's time. Every request still reaches
    Locust's statistics, CSV and HTML report. Redirects are answers here: the mapping's success
    statuses decide.
    """

    def __init__(self, environment: Environment, host: str, connections: int, timeout_s: float) -> None:
        url = URL(host)
        self.client = HTTPClient.from_url(
            url, concurrency=connections, network_timeout=timeout_s, connection_timeout=timeout_s,
            insecure=True, headers={"User-Agent": f"parcours-replay/{__version__}"},
        )  # fmt: skip
        self.base = url.path.rstrip("/")
        self.fire: Callable[..., None] = environment.events.request.fire
        self.status_errors: dict[int, StatusError] = {}

    def request(
        self,
        method: str,
        path: str,
        name: str,
        body: bytes | None,
        headers: dict[str, str],
        success: frozenset[int],
    ) -> Reply:
        started, clock = time.time(), time.perf_counter()
        status, length = 0, 0
        error: Exception | None = None
        cookies: tuple[str, ...] = ()
        answer = b""
        try:
            response = self.client.request(method, self.base + path, body=body or b"", headers=headers)
            with response:  # reads the body to the end, so the connection is kept for the next request
                answer = response.read()
                length = len(answer)
            status = response.status_code
            if "set-cookie" in response:
                cookies = tuple(response.info().getlist("set-cookie"))
        except Exception as exc:  # refused, timed out, closed early: recorded per event; the replay goes on
            error = exc
        failure = error if not status else (None if status in success else self._status_error(status))
        elapsed_ms = (time.perf_counter() - clock) * 1000
        self.fire(
            request_type=method, name=name, response_time=elapsed_ms, response_length=length, response=None,
            context={}, exception=failure, start_time=started, url=path,
        )  # fmt: skip
        return Reply(status, error, cookies, answer)

    def _status_error(self, status: int) -> StatusError:
        return self.status_errors.setdefault(status, StatusError(f"HTTP {status}"))
