"""The Locust replay of a run directory against an HTTP backend, its mappings and the reference backend.

Only modules of this package import locust or gevent, and only ``locustfile``, ``node`` and ``driver``
do so; the rest (mapping, schedule, histograms, summary, runner) are plain and safe to import from the
CLI process.
"""
