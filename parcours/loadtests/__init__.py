"""The Locust replay of a run directory against an HTTP backend, its mappings and the reference backend.

Only modules of this package import locust or gevent, and only ``locustfile``, ``node``, ``driver``,
``sender`` and ``outcome`` do so; the rest (mapping, checks, schedule, histograms, request log,
summary, runner, and the reference backend in ``backend/``) are plain and safe to import from the
CLI process.
"""
