"""Serving the reference backend with uvicorn: settings, the listening socket, the start-up line.

On 127.0.0.1 (the default) anyone on this machine may call it; bound anywhere else it refuses to
start without a shared token (``--token`` or ``PARCOURS_BACKEND_TOKEN``), which every request but
``/health`` must then carry, and it says so at start.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sqlite3
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parcours.backend.guard import Limits
from parcours.errors import ParcoursError
from parcours.vocabulary import IntegrationLevel

if TYPE_CHECKING:
    from parcours.backend.store import Store

TOKEN_ENV = "PARCOURS_BACKEND_TOKEN"
MEMORY = ":memory:"
READY_PREFIX = "listening on "
#: On SIGTERM or Ctrl-C, how long requests in flight may finish before the server closes anyway.
SHUTDOWN_GRACE_S = 5


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "parcours-backend.sqlite3"  # or MEMORY
    level: IntegrationLevel = IntegrationLevel.OMNICHANNEL
    token: str | None = None
    limits: Limits = Limits()
    idle_timeout_s: int = 60  # long: a client reusing a connection just as it closes loses a request
    header_timeout_s: float = 10.0  # from a request's first byte to its last (slowloris)
    max_connections: int = 4096

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ParcoursError(f"--port: {self.port} is not a port number (0 picks a free one)")
        if not is_loopback(self.host) and not self.token:
            raise ParcoursError(
                f"--host {self.host}: bound beyond this machine, the backend needs a shared token "
                f"(--token or {TOKEN_ENV})"
            )
        if self.db != MEMORY:
            check_db_path(Path(self.db))
            folder = Path(self.db).parent
            if not folder.is_dir():
                raise ParcoursError(f"--db: folder {folder} does not exist")
            if Path(self.db).exists() and not _is_sqlite(Path(self.db)):
                raise ParcoursError(f"--db: {self.db} exists and is not an SQLite database")
            if Path(self.db).exists() and not _is_ours(Path(self.db)):
                raise ParcoursError(
                    f"--db: {self.db} is an SQLite database the reference backend did not write"
                )


def check_db_path(path: Path) -> None:
    """A regular file (never followed through a link: it could be anyone's) or a path not taken yet."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ParcoursError(f"--db: {path}: {exc.strerror}") from None
    if stat.S_ISLNK(mode):
        raise ParcoursError(f"--db: {path} is a symbolic link; give the database file itself, or a new path")
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
        raise ParcoursError(f"--db: {path} is {kind}; give a database file, or a new path")


def _is_sqlite(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _is_ours(path: Path) -> bool:
    """Empty, or holding the backend's ``meta`` table: never add tables to someone else's database."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return True
            return (
                "meta" in tables
                and db.execute("SELECT 1 FROM meta WHERE key = 'level'").fetchone() is not None
            )
    except sqlite3.DatabaseError:
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ParcoursError(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    settings: Settings, echo: Callable[[str], None] | None = None, store_type: type[Store] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM; prints ``listening on URL`` once it takes requests.

    ``store_type`` replaces the repository (a test double that misbehaves on purpose)."""
    import uvicorn  # here: `parcours` commands that do not serve never load the server stack

    from parcours.backend.app import create_app
    from parcours.backend.store import Store as Default
    from parcours.backend.timeouts import protocol

    say = echo or (lambda line: print(line, flush=True))
    settings.check()
    sock = listen(settings.host, settings.port)
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{port}"

    def ready() -> None:
        where = "in memory" if settings.db == MEMORY else f"in {settings.db}"
        guard = "token required" if settings.token else "no token (loopback only)"
        print(f"parcours backend: level {settings.level.value}, data {where}, {guard}", file=sys.stderr)
        say(READY_PREFIX + url)

    store = (store_type or Default)(settings.db, settings.level)
    app = create_app(store, limits=settings.limits, token=settings.token, on_ready=ready)
    config = uvicorn.Config(
        app,
        http=protocol(settings.header_timeout_s),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=settings.idle_timeout_s,
        limit_concurrency=settings.max_connections,
        backlog=2048,
        h11_max_incomplete_event_size=settings.limits.max_header_bytes,
        server_header=False,
        ws="none",
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])
