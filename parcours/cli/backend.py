"""``parcours backend``: serve the reference backend (FastAPI on uvicorn, SQLite) until Ctrl-C.

Thin on purpose: the server stack is imported inside the command, so other verbs never load it.
"""

from __future__ import annotations

from pathlib import Path

import click

LEVELS = ("multichannel", "crosschannel", "omnichannel")  # as parcours.vocabulary.IntegrationLevel


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind; not loopback needs a token."
)
@click.option("--port", type=int, default=8080, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=Path("parcours-backend.sqlite3"),
    show_default=True,
    help="SQLite database file (created if missing; state survives a restart).",
)
@click.option("--memory", is_flag=True, help="Keep the state in memory only, instead of --db.")
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="omnichannel",
    show_default=True,
    help="Integration level: whether logins link identities (not multichannel) and carts follow the "
    "account (omnichannel).",
)
@click.option(
    "--token",
    envvar="PARCOURS_BACKEND_TOKEN",
    help="Shared token every request but /health must carry (X-Parcours-Token or Authorization: "
    "Bearer) [env PARCOURS_BACKEND_TOKEN]; required off loopback.",
)
@click.option("--max-body-kb", type=int, default=1024, show_default=True, help="Largest request body.")
@click.option(
    "--idle-timeout",
    type=int,
    default=60,
    show_default=True,
    help="Seconds an idle connection stays open (a new one that says nothing too).",
)
@click.option(
    "--header-timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds a request has, from its first byte, to arrive whole (slowloris clients are closed).",
)
def backend(
    host: str,
    port: int,
    db: Path,
    memory: bool,
    level: str,
    token: str | None,
    max_body_kb: int,
    idle_timeout: int,
    header_timeout: float,
) -> None:
    """Serve the reference backend: identities, carts, stock, orders, returns, service; /docs, /metrics.

    Replay a run against it from another terminal: parcours replay RUN --target http://127.0.0.1:8080 --check
    """
    from parcours.backend.guard import Limits
    from parcours.backend.server import MEMORY, Settings, serve
    from parcours.errors import ParcoursError
    from parcours.vocabulary import IntegrationLevel

    if max_body_kb < 1 or idle_timeout <= 0:
        raise ParcoursError("--max-body-kb and --idle-timeout: must be positive")
    if not 0 < header_timeout <= 3600:
        raise ParcoursError(f"--header-timeout: must be above 0 and at most 3600 s, got {header_timeout:g}")
    settings = Settings(
        host=host,
        port=port,
        db=MEMORY if memory else str(db),
        level=IntegrationLevel(level),
        token=token or None,
        limits=Limits(max_body_bytes=max_body_kb * 1024),
        idle_timeout_s=idle_timeout,
        header_timeout_s=header_timeout,
    )
    # uvicorn shuts down cleanly on SIGINT or SIGTERM, then raises the signal again: the command then
    # exits as every parcours command does, 130 after Ctrl-C and 143 after SIGTERM
    serve(settings, click.echo)
