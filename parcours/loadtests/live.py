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

import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from parcours.errors import ParcoursError

PREFIX = "parcours_replay"
#: How often a worker sends its snapshot to the master (and folds what it recorded since the last one).
PUBLISH_S = 1.0
#: How long the endpoint may stay up after the end, waiting for a scrape of the final values: a
#: Prometheus scrape interval (15 s in most set-ups; its own default is 1 min).
LINGER_S = 15.0
#: Upper bounds of the histogram buckets, seconds: a millisecond to a minute (the longest --timeout
#: a replay is usually given), the spread of the latencies a replay reports.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: The histograms, by the name of the measure they hold (see measure.py).
HISTOGRAMS = {"lag": "lag", "service": "service", "latency": "corrected"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GAUGES = ("due", "sent", "in_flight", "skipped", "order_violations")
_HELP = {
    "requests_total": "Requests whose outcome is known, by channel, event type, outcome (ok, status, "
    "refused, timeout, closed, other, unanswered: out when the replay stopped) and HTTP status.",
    "lag_seconds": "Sent minus due: how late each request left, by channel.",
    "service_seconds": "Done minus sent: what a closed-loop tool reports, by channel.",
    "latency_seconds": "Done minus due: what the customer waited, free of coordinated omission, by channel.",
    "events_planned": "Events the replay plans to send.",
    "events_due_total": "Events whose due time came (handed over to their customer).",
    "events_sent_total": "Events whose request went out (answered, failed or still out).",
    "events_in_flight": "Events whose request is out, waiting for its answer.",
    "events_skipped_total": "Events not sent because a text template needed a field they lack.",
    "order_violations_total": "Events sent before an earlier event of the same customer.",
    "check_violations_total": "Answers that broke a continuity check (--check), by kind and channel.",
    "workers": "Replay processes: expected, reporting (a snapshot came), lost (gone without a result).",
    "finished": "1 once the replay ended and these are its final values.",
}


# -- one process's counts ----------------------------------------------------------------------


def _empty() -> dict[str, Any]:
    return {"requests": [], "histograms": {}, "checks": [], **dict.fromkeys(GAUGES, 0)}


class LiveCounts:
    """One replay process's cumulative counts; ``fold`` runs in the folding thread, the rest on the loop.

    The folding thread never touches the totals: it appends what it counted to a deque (appends and
    pops are atomic), which the loop drains when it takes a snapshot.
    """

    def __init__(self) -> None:
        self.inbox: deque[tuple[Counter[tuple[str, str, str, str]], dict[str, dict[str, np.ndarray]]]]
        self.inbox = deque()
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        self.histograms: dict[str, dict[str, np.ndarray]] = {name: {} for name in HISTOGRAMS}

    def fold(
        self,
        channel: np.ndarray,
        event_type: np.ndarray,
        outcome: np.ndarray,
        status: np.ndarray,
        seconds: dict[str, np.ndarray],
        names: dict[str, list[str]],
        outcomes: tuple[str, ...],
        timed: np.ndarray,
    ) -> None:
        """Count one batch of rows (codes as in the recorder; ``timed``: rows whose durations count)."""
        key = (
            (((channel.astype(np.int64) << 16) | event_type.astype(np.int64)) << 16)
            | (outcome.astype(np.int64) << 10)
            | status.astype(np.int64)
        )
        keys, n = np.unique(key, return_counts=True)
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for k, c in zip(keys.tolist(), n.tolist(), strict=True):
            code = k & 1023
            counts[
                (
                    names["channel"][k >> 32],
                    names["event_type"][(k >> 16) & 0xFFFF],
                    outcomes[(k >> 10) & 63],
                    str(code) if code else "",
                )
            ] += c
        histograms: dict[str, dict[str, np.ndarray]] = {}
        ch = channel[timed].astype(np.int64)
        width = len(BUCKETS_S) + 2  # the buckets, +Inf, then the sum
        for name, measure in HISTOGRAMS.items():
            values = seconds[measure][timed]
            index = ch * width + np.searchsorted(BUCKETS_S, values, side="left")
            buckets = np.bincount(index, minlength=(int(ch.max()) + 1) * width if len(ch) else 0)
            sums = np.bincount(ch, weights=values) if len(ch) else np.empty(0)
            per = {}
            for c in np.unique(ch).tolist():
                row = buckets[c * width : (c + 1) * width].astype(np.float64)
                row[-1] = sums[c]
                per[names["channel"][c]] = row
            histograms[name] = per
        self.inbox.append((counts, histograms))

    def drain(self) -> None:
        while self.inbox:
            counts, histograms = self.inbox.popleft()
            self.requests.update(counts)
            for name, per in histograms.items():
                mine = self.histograms[name]
                for channel, row in per.items():
                    mine[channel] = row if channel not in mine else mine[channel] + row

    def snapshot(self, gauges: dict[str, int], checks: Iterable[tuple[str, str, int]]) -> dict[str, Any]:
        """Plain data (what a worker sends the master): every count so far, and the gauges now."""
        self.drain()
        return {
            "requests": [[*k, n] for k, n in sorted(self.requests.items())],
            "histograms": {
                name: {c: row.tolist() for c, row in sorted(per.items())}
                for name, per in self.histograms.items()
            },
            "checks": [[kind, channel, n] for kind, channel, n in checks],
            **{g: int(gauges.get(g, 0)) for g in GAUGES},
        }


def merge(snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The sum of several processes' snapshots."""
    total = _empty()
    requests: Counter[tuple[str, ...]] = Counter()
    checks: Counter[tuple[str, str]] = Counter()
    histograms: dict[str, dict[str, list[float]]] = {}
    for snap in snapshots:
        for *key, n in snap["requests"]:
            requests[tuple(key)] += n
        for kind, channel, n in snap["checks"]:
            checks[(kind, channel)] += n
        for name, per in snap["histograms"].items():
            mine = histograms.setdefault(name, {})
            for channel, row in per.items():
                old = mine.get(channel, [0.0] * len(row))
                mine[channel] = [a + b for a, b in zip(old, row, strict=True)]
        for g in GAUGES:
            total[g] += snap.get(g, 0)
    total["requests"] = [[*k, n] for k, n in sorted(requests.items())]
    total["checks"] = [[k, c, n] for (k, c), n in sorted(checks.items())]
    total["histograms"] = histograms
    return total


def as_result(index: int, snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """What a worker lost mid-replay had sent, as a worker's result, from its last snapshot: its
    requests out then, or sent since and not yet folded, count as unanswered."""
    snap = snapshot or _empty()
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for _, _, outcome, status, n in snap["requests"]:
        counts[outcome] += n
        if status:
            statuses[status] += n
    recorded = sum(counts.values())
    counts["unanswered"] += max(0, snap["sent"] - recorded)
    counts["sent"] = max(snap["sent"], recorded)
    return {
        "index": index, "lost": True, "histograms": [], "counts": dict(counts),
        "status_codes": dict(statuses), "errors_by_type": {}, "error_samples": {},
        "skipped": {"(lost worker)": snap["skipped"]} if snap["skipped"] else {},
        "order_violations": snap["order_violations"],
        "checks": {"checked": 0, "violations": snap["checks"], "samples": {}},
        "handed": snap["due"], "customers": 0, "first_sent_s": None, "last_done_s": None,
        "stopped": False, "live": snap,  # not stopped: lost (the summary says so apart)
    }  # fmt: skip


# -- the text format ----------------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}" if pairs else ""


def _family(lines: list[str], name: str, kind: str) -> str:
    full = f"{PREFIX}_{name}"
    lines += [f"# HELP {full} {_HELP[name]}", f"# TYPE {full} {kind}"]
    return full


def text(snapshot: dict[str, Any], *, planned: int, workers: dict[str, int], finished: bool) -> str:
    """Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    full = _family(lines, "requests_total", "counter")
    for channel, event_type, outcome, status, n in snapshot["requests"]:
        pairs = {"channel": channel, "event_type": event_type, "outcome": outcome, "status": status}
        lines.append(f"{full}{_labels(pairs)} {n}")
    for name in HISTOGRAMS:
        full = _family(lines, f"{name}_seconds", "histogram")
        for channel, row in sorted(snapshot["histograms"].get(name, {}).items()):
            running = 0.0
            for bound, n in zip([*map(repr, BUCKETS_S), "+Inf"], row[:-1], strict=True):
                running += n
                lines.append(f"{full}_bucket{_labels({'channel': channel, 'le': bound})} {running:.0f}")
            lines.append(f"{full}_sum{_labels({'channel': channel})} {row[-1]:.6f}")
            lines.append(f"{full}_count{_labels({'channel': channel})} {running:.0f}")
    full = _family(lines, "check_violations_total", "counter")
    for kind, channel, n in snapshot["checks"]:
        lines.append(f"{full}{_labels({'kind': kind, 'channel': channel})} {n}")
    for name, value, kind in (
        ("events_planned", planned, "gauge"),
        ("events_due_total", snapshot["due"], "counter"),
        ("events_sent_total", snapshot["sent"], "counter"),
        ("events_in_flight", snapshot["in_flight"], "gauge"),
        ("events_skipped_total", snapshot["skipped"], "counter"),
        ("order_violations_total", snapshot["order_violations"], "counter"),
    ):
        lines.append(f"{_family(lines, name, kind)} {value}")
    full = _family(lines, "workers", "gauge")
    lines += [f"{full}{_labels({'state': state})} {n}" for state, n in workers.items()]
    lines.append(f"{_family(lines, 'finished', 'gauge')} {int(finished)}")
    return "\n".join(lines) + "\n"


# -- the endpoint -------------------------------------------------------------------------------


class Endpoint:
    """``GET /metrics`` on 127.0.0.1:``port``, rendering ``render()`` at each scrape (a gevent server)."""

    def __init__(self, port: int, render: Callable[[], str]) -> None:
        self.render = render
        self.finished = False  # set once the final values are in: then scrapes count as final
        self.final_scrapes = 0
        listener = socket.socket()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(64)
        except OSError as exc:
            listener.close()
            raise ParcoursError(
                f"--metrics-port: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})"
            ) from None
        from gevent.pywsgi import WSGIServer  # here: the counting and the text need no event loop

        self.server = WSGIServer(listener, self._app, log=None, error_log=None)
        self.server.start()

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") not in ("/metrics", "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"parcours replay: metrics are at /metrics\n"]
        finished = self.finished
        body = self.render().encode()
        self.final_scrapes += finished
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    def linger(self, seconds: float) -> None:
        """Stay up until a scrape has read the final values, at most ``seconds``."""
        import gevent

        deadline = time.monotonic() + seconds
        while not self.final_scrapes and time.monotonic() < deadline:
            gevent.sleep(0.05)

    def close(self) -> None:
        self.server.stop(timeout=1)
