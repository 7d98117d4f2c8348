"""``parcours backend``: the reference backend, a small cross-channel retailer API to replay runs against."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=int, default=8080, show_default=True, help="Port to listen on; 0 picks a free one."
)
def backend(host: str, port: int) -> None:
    """Serve the reference backend until Ctrl-C or SIGTERM.

    It speaks the built-in `reference` mapping: start it here, then in another terminal
    `parcours replay RUN --target http://127.0.0.1:8080 --mapping reference`. State is kept in memory;
    `GET /stats` returns what it has stored.
    """
    from parcours.loadtests.backend import run

    run(host, port)
