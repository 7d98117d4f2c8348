"""``python -m parcours.backend``: what ``parcours backend`` runs, for ``--target builtin``."""

from __future__ import annotations

import argparse
import os
import sys

from parcours.backend.server import MEMORY, TOKEN_ENV, Settings, serve
from parcours.errors import ParcoursError
from parcours.lifeline import follow_parent
from parcours.vocabulary import IntegrationLevel


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m parcours.backend", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--db", default=MEMORY, help=f"SQLite file, or {MEMORY}")
    parser.add_argument("--level", choices=[v.value for v in IntegrationLevel], default="omnichannel")
    args = parser.parse_args(argv)
    settings = Settings(
        host=args.host,
        port=args.port,
        db=args.db,
        level=IntegrationLevel(args.level),
        token=os.environ.get(TOKEN_ENV) or None,
    )
    follow_parent()  # started by `parcours replay`: gone with it, even after a kill -9
    try:
        serve(settings)
    except ParcoursError as exc:
        print(f"parcours: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
