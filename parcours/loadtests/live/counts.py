"""One replay process's live counts (folded from the recorder's rows), and the sum of several."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Upper bounds of the histogram buckets, seconds: a millisecond to a minute (the longest --timeout
#: a replay is usually given), the spread of the latencies a replay reports.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: The histograms, by the name of the measure they hold (see measure.py).
HISTOGRAMS = {"lag": "lag", "service": "service", "latency": "corrected"}
GAUGES = ("due", "sent", "in_flight", "skipped", "order_violations")


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
