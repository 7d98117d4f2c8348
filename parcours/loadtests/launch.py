"""``python -m parcours.loadtests.launch ARGS``: Locust's ``main``, parcours's options registered first.

Locust prints ``--help`` before it loads a locustfile, so the options a locustfile adds never show
there (locustio/locust#2917). Registering them before Locust parses anything lists them with
Locust's own; the locustfile's second registration, when Locust imports it, is ignored (``nodes.hook_into``).
"""

from __future__ import annotations

import sys

from locust.main import main as locust_main

import parcours.loadtests.locustfile  # noqa: F401  (registers the replay's options and hooks)


def main() -> None:
    sys.argv[0] = "locust"
    locust_main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
