"""A fault-injecting HTTP server on 127.0.0.1: the peer that misbehaves on purpose in the fault tests.

Raw sockets, so that it can do what a polite server library never does: hang without answering,
reset the connection, promise a body and stop half-way, or die and come back on the same port. Each
request gets the fault ``plan(n)`` names for its index ``n`` (0, 1, 2... in arrival order):

- ``ok``: 200 with a short body;   ``5xx``: 503;   ``delay``: 200 after ``delay_s``;
- ``hang``: read the request, never answer (until the server stops or ``hang_max_s`` passes);
- ``reset``: close with a TCP reset (SO_LINGER 0), no answer;
- ``partial``: a 200 head announcing 100 bytes, then 4 bytes and a close.

``restart(down_s)`` (or ``restart_after(n, down_s)``, once n requests arrived) drops every
connection, stops listening (connections are refused), and listens again on the same port ``down_s``
later. ``counts`` says how many requests got each fault.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("ok", "5xx", "delay", "hang", "reset", "partial")
Plan = Callable[[int], str]


class FaultServer:
    def __init__(self, plan: Plan, *, delay_s: float = 0.2, hang_max_s: float = 60.0) -> None:
        self.plan = plan
        self.delay_s = delay_s
        self.hang_max_s = hang_max_s
        self.counts: Counter[str] = Counter()
        self.received = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.conns: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.restart_at: tuple[int, float] | None = None
        self.port = 0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- listening ---------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(512)
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed: stop or restart
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _drop_connections(self) -> None:
        with self.lock:
            conns, self.conns = list(self.conns), set()
        for conn in conns:
            _reset(conn)

    def restart(self, down_s: float) -> None:
        """Die (connections reset, port closed) and come back ``down_s`` later, on the same port."""
        self._close_listener()
        self._drop_connections()
        if not self.stopping.wait(down_s):
            self._listen()

    def restart_after(self, requests: int, down_s: float) -> None:
        """Restart (see ``restart``) once ``requests`` requests have arrived."""
        self.restart_at = (requests, down_s)

    def stop(self) -> None:
        self.stopping.set()
        self._close_listener()
        self._drop_connections()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                request, buffer = _read_request(conn, buffer)
                if request is None:
                    return
                with self.lock:
                    fault = self.plan(self.received)
                    self.received += 1
                    self.counts[fault] += 1
                    if self.restart_at is not None and self.received >= self.restart_at[0]:
                        down_s, self.restart_at = self.restart_at[1], None
                        threading.Thread(target=self.restart, args=(down_s,), daemon=True).start()
                if not self._answer(conn, fault):
                    return
        except OSError:
            return
        finally:
            with self.lock:
                self.conns.discard(conn)
            conn.close()

    def _answer(self, conn: socket.socket, fault: str) -> bool:
        """Answer one request with ``fault``; False when the connection is over."""
        if fault == "hang":
            self.stopping.wait(self.hang_max_s)
            return False
        if fault == "reset":
            _reset(conn)
            return False
        if fault == "partial":
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a"')
            return False
        if fault == "delay":
            time.sleep(self.delay_s)
        status = b"503 Service Unavailable" if fault == "5xx" else b"200 OK"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
        return True


def _reset(conn: socket.socket) -> None:
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass


def _read_request(conn: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """One request (head and body, by Content-Length) and what follows it; None when the peer left."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]
