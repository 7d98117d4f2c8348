"""Live metrics: ``parcours replay --metrics-port`` serves Prometheus text while the replay runs, and its
counters at the end equal ``summary.json``'s, with one Locust process and with a master and two workers.

Real parts: Locust in its own processes, the standard library's HTTP server on 127.0.0.1 answering
some requests 503, and a scraper thread reading ``/metrics`` with urllib as Prometheus would. Bounded:
about three seconds of replay each, at most a minute in all.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from parcours.cli.main import main
from parcours.loadtests.live import Endpoint, LiveCounts, merge, text
from tests.replay_support import Arrival, make_run, recording_server

SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(body: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text as (name, labels, value), comments skipped; a line that does not parse fails."""
    out = []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out.append((m[1], dict(LABEL.findall(m[2] or "")), float(m[3])))
    return out


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **match: str) -> float:
    return sum(
        v for n, labels, v in samples if n == name and all(labels.get(k) == w for k, w in match.items())
    )


class Scraper(threading.Thread):
    """Scrapes every 0.2 s until it has read the final values (or gives up after ``limit_s``)."""

    def __init__(self, port: int, limit_s: float = 90.0) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.limit_s = limit_s
        self.scrapes: list[list[tuple[str, dict[str, str], float]]] = []
        self.content_type = ""

    def run(self) -> None:
        deadline = time.monotonic() + self.limit_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as answer:
                    self.content_type = answer.headers["Content-Type"]
                    samples = parse(answer.read().decode())
            except OSError:
                time.sleep(0.2)  # not up yet (or gone)
                continue
            self.scrapes.append(samples)
            if total(samples, "parcours_replay_finished") == 1:
                return
            time.sleep(0.2)

    @property
    def final(self) -> list[tuple[str, dict[str, str], float]]:
        assert self.scrapes and total(self.scrapes[-1], "parcours_replay_finished") == 1, "no final scrape"
        return self.scrapes[-1]


def free_port() -> int:
    """A port free now (a replay refuses one taken when it starts, in one line)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def some_503(arrival: Arrival) -> tuple[int, float]:
    return (503, 0.0) if arrival.event_id % 7 == 0 else (200, 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_live_counters_equal_the_summary_at_the_end(tmp_path: Path, workers: str) -> None:
    make_run(tmp_path / "run", customers=12, events=10, span_s=90, parts=2)  # 120 events, 3 s at 30x
    port = free_port()
    scraper = Scraper(port)
    out = tmp_path / "out"
    with recording_server(some_503) as (url, rec):
        scraper.start()
        argv = ["replay", str(tmp_path / "run"), "--target", url, "--speed", "30", "--workers", workers,
                "--max-lag-ms", "100000", "--metrics-port", str(port), "--out", str(out)]  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(argv)
            raise SystemExit(0)
        scraper.join(timeout=30)
    assert exit_.value.code in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    final, ev = scraper.final, summary["events"]
    assert scraper.content_type.startswith("text/plain; version=0.0.4")
    assert len(scraper.scrapes) >= 2  # at least one during the replay, then the final one
    # the counters equal the summary's
    assert total(final, "parcours_replay_requests_total") == ev["sent"] == len(rec.arrivals) == 120
    assert total(final, "parcours_replay_events_sent_total") == ev["sent"]
    assert total(final, "parcours_replay_requests_total", outcome="ok") == ev["ok"]
    assert ev["failed"] == sum(1 for a in rec.arrivals if a.event_id % 7 == 0) > 0
    by_status = Counter[str]()
    for name, labels, value in final:
        if name == "parcours_replay_requests_total" and labels["status"]:
            by_status[labels["status"]] += int(value)
    assert dict(by_status) == summary["errors"]["by_status"]
    assert total(final, "parcours_replay_events_due_total") == sum(w["handed"] for w in summary["workers"])
    assert total(final, "parcours_replay_events_in_flight") == 0
    assert total(final, "parcours_replay_events_planned") == ev["to_send"]
    assert total(final, "parcours_replay_workers", state="reporting") == int(workers)
    # per channel: the latency histograms count every answered request, and agree with the summary
    for channel, stats in summary["by"]["channel"].items():
        count = total(final, "parcours_replay_latency_seconds_count", channel=channel)
        assert count == stats["corrected"]["count"] > 0
        assert total(final, "parcours_replay_latency_seconds_bucket", channel=channel, le="+Inf") == count
        mean_s = total(final, "parcours_replay_latency_seconds_sum", channel=channel) / count
        assert mean_s * 1000 == pytest.approx(stats["corrected"]["mean"], rel=0.01, abs=0.01)
    # counters never went down between scrapes
    sent = [total(s, "parcours_replay_events_sent_total") for s in scraper.scrapes]
    assert sent == sorted(sent)


def test_the_text_sums_processes_and_escapes_labels() -> None:
    import numpy as np

    counts = LiveCounts()
    names = {"channel": ['we"b', "app"], "event_type": ["page_view"]}
    seconds = {m: np.array([0.0005, 0.02, 7.0]) for m in ("lag", "service", "corrected")}
    outcomes = ("ok", "status", "timeout")
    counts.fold(
        np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([0, 1, 2]), np.array([200, 503, 0]),
        seconds, names, outcomes, np.array([True, True, False]),
    )  # fmt: skip
    one = counts.snapshot({"due": 3, "sent": 3, "in_flight": 1}, [("cart_lost", "app", 1)])
    body = text(merge([one, one]), planned=9, workers={"expected": 2}, finished=False)
    samples = parse(body)
    assert total(samples, "parcours_replay_requests_total") == 6
    assert total(samples, "parcours_replay_requests_total", channel='we\\"b', outcome="status") == 2
    assert total(samples, "parcours_replay_requests_total", outcome="timeout", status="") == 2
    assert total(samples, "parcours_replay_lag_seconds_bucket", le="0.001") == 2
    assert total(samples, "parcours_replay_lag_seconds_bucket", le="+Inf") == 4  # the timeout has no duration
    assert total(samples, "parcours_replay_lag_seconds_sum") == pytest.approx(2 * 0.0205)
    assert total(samples, "parcours_replay_events_in_flight") == 2
    assert total(samples, "parcours_replay_check_violations_total", kind="cart_lost") == 2
    assert total(samples, "parcours_replay_finished") == 0


def test_a_busy_metrics_port_is_one_line() -> None:
    from parcours.errors import ParcoursError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ParcoursError, match=rf"^--metrics-port: cannot listen on 127.0.0.1:{port} \("):
            Endpoint(port, lambda: "")


def test_the_grafana_dashboard_reads_metrics_the_replay_serves() -> None:
    from parcours.loadtests import live

    dashboard = json.loads((Path(__file__).parents[1] / "examples" / "grafana-replay.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    served = {f"{live.PREFIX}_{name}" for name in live.HELP}
    for name in live.HISTOGRAMS:
        served |= {f"{live.PREFIX}_{name}_seconds_{part}" for part in ("bucket", "sum", "count")}
    read = {m for e in exprs for m in re.findall(r"parcours_replay_\w+", e)}
    assert read and read <= served, read - served


@pytest.mark.slow
def test_parcours_locust_serves_them_too_and_ends_143_on_sigterm(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=4, events=50, span_s=3600)  # six minutes at speed 10
    port = free_port()
    with recording_server() as (url, rec):
        proc = subprocess.Popen(
            [sys.executable, "-m", "parcours", "locust", "--run-dir", str(tmp_path / "run"), "--host", url,
             "--headless", "-t", "120s", "--speed", "10", "--replay-out", str(tmp_path / "out"),
             "--metrics-port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while len(rec.arrivals) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                samples = parse(answer.read().decode())
            assert total(samples, "parcours_replay_events_sent_total") >= 1
            assert total(samples, "parcours_replay_finished") == 0
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 143, err[-2000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["interrupted"] and summary["events"]["sent"] == len(rec.arrivals)
