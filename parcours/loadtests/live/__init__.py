"""Live metrics of a replay: Prometheus text on ``127.0.0.1:PORT/metrics`` while it runs (``--metrics-port``).

Each replay process counts what its recorder folds (requests by channel, event type, outcome and HTTP
status; lag, service time and corrected latency histograms by channel) and keeps its gauges (events
due, sent, in flight). A snapshot of these is cumulative, so summing the latest snapshot of every
process is always right, whatever message came late or twice: Locust workers send theirs to the
master every ``PUBLISH_S`` (``runner.send_message``), and the master, or a replay without workers,
serves the sum. A worker's last snapshot comes with its result, so at the end the counters equal
``summary.json``'s; a worker lost on the way keeps the counts of its last snapshot.

After the replay ends, the endpoint stays up until one scrape has read the final values (the
``parcours_replay_finished`` gauge is 1), at most ``--metrics-linger`` seconds.
"""

from __future__ import annotations

from parcours.loadtests.live.counts import BUCKETS_S, GAUGES, HISTOGRAMS, LiveCounts, as_result, merge
from parcours.loadtests.live.exposition import HELP, PREFIX, Endpoint, text

#: How often a worker sends its snapshot to the master (and folds what it recorded since the last one).
PUBLISH_S = 1.0
#: How long the endpoint may stay up after the end, waiting for a scrape of the final values: a
#: Prometheus scrape interval (15 s in most set-ups; its own default is 1 min).
LINGER_S = 15.0

__all__ = [
    "BUCKETS_S", "GAUGES", "HELP", "HISTOGRAMS", "LINGER_S", "PREFIX", "PUBLISH_S", "Endpoint", "LiveCounts",
    "as_result", "merge", "text",
]  # fmt: skip
