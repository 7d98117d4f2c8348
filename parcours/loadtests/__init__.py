"""The Locust replay of a run directory against an HTTP backend, and its request mappings.

Only modules of this package import locust or gevent, and only ``locustfile``, ``launch``, ``nodes``,
``driver``, ``feed`` and ``sender`` do so (``live`` only inside the function that serves the metrics);
the rest (mapping, checks, schedule, histograms, request log, verdict, runner) are plain and safe to
import from the CLI process. The reference backend that
``--target builtin`` starts is a package of its own, ``parcours.backend``, started in a subprocess.
"""
