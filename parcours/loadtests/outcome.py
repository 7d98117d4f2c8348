"""What became of one request: the reply as the sender saw it, and its outcome code."""

from __future__ import annotations

from dataclasses import dataclass

import gevent
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed

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
