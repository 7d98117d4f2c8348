"""The live counts as Prometheus text (exposition format 0.0.4), served at 127.0.0.1:PORT/metrics."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from parcours.errors import ParcoursError
from parcours.loadtests.live.counts import BUCKETS_S, HISTOGRAMS

PREFIX = "parcours_replay"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HELP = {
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


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}" if pairs else ""


def _family(lines: list[str], name: str, kind: str) -> str:
    full = f"{PREFIX}_{name}"
    lines += [f"# HELP {full} {HELP[name]}", f"# TYPE {full} {kind}"]
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
