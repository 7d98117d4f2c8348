"""The reference backend: a small cross-channel retailer API to replay a run against.

    parcours backend --db shop.sqlite3                  # http://127.0.0.1:8080, /docs, /openapi.json
    parcours replay RUN --target builtin                # starts one for the replay's duration

FastAPI on uvicorn, state in SQLite (``store``), routes in ``app``, limits and metrics in ``guard``
and ``metrics``, start-up in ``server``. It imports nothing of Locust or gevent.
"""
