"""Per-event measurements of one replay process: recorded cheaply, folded into histograms in bulk.

For each event four durations, all on the monotonic clock:
  lag            sent - due      how late the request left (waiting on this customer's previous
                                 response included)
  schedule_lag   sent - ready    how late the replay itself was, where ready = max(due, previous
                                 response of the same customer): the figure the lag gate checks
  service        done - sent     what a closed-loop tool would report
  corrected      done - due      what the customer waited: free of coordinated omission
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from parcours.loadtests.histogram import Histogram, HistogramSet
from parcours.loadtests.live import LiveCounts

METRICS = ("lag", "schedule_lag", "service", "corrected")
DIMENSIONS = ("channel", "persona", "event_type")
#: How a request ended; the index is what a record stores. ``unanswered``: still out when the replay
#: stopped (the target may have it), so sent, but without an answer, and kept out of the histograms.
OUTCOMES = ("ok", "status", "refused", "timeout", "closed", "other", "unanswered")
OK = 0
UNANSWERED = OUTCOMES.index("unanswered")
#: Records kept before folding them into histograms: bounds memory, keeps each fold to a few ms.
#: Not a multiple of the reading chunk, so that folding and reading do not keep falling together.
FLUSH_ROWS = 15_000
ROW_WIDTH = 9
#: Examples kept per kind of continuity violation.
SAMPLES = 3

Row = tuple[int, int, int, float, float, float, float, int, int]  # ..., outcome, HTTP status (0: none)


class Folds(Protocol):
    def spawn(self, fn: Callable[[], None]) -> Any: ...

    def join(self) -> None: ...


class Registry:
    """Small integer codes for channel, persona and event type names (assigned as they appear)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
        self._codes: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}

    def code(self, dimension: str, name: str) -> int:
        codes = self._codes[dimension]
        if name not in codes:
            codes[name] = len(codes)
            self.names[dimension].append(name)
        return codes[name]

    def codes(self, dimension: str, names: list[str]) -> np.ndarray:
        return np.array([self.code(dimension, n) for n in names], np.int32)


class Tallies:
    """Exact counts of (metric, dimension, key, microseconds), packed into one int64 each.

    Folding a batch is a handful of NumPy calls (one sort for all sixteen histograms), which release
    the GIL: done in a thread, it barely competes with the loop that sends. Partial results are
    merged only when they pile up, and split into named histograms at the end.
    """

    VALUE_BITS = 40  # microseconds: up to 12 days
    KEY_BITS = 16

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, keys: dict[str, np.ndarray], durations_us: dict[str, np.ndarray]) -> None:
        packed = []
        for m, us in enumerate(durations_us.values()):
            for d, codes in enumerate([np.zeros_like(us), *keys.values()]):
                combo = ((m * (len(keys) + 1) + d) << self.KEY_BITS) | codes
                packed.append((combo << self.VALUE_BITS) | np.minimum(us, (1 << self.VALUE_BITS) - 1))
        self.parts.append(np.unique(np.concatenate(packed), return_counts=True))
        if len(self.parts) >= 16:
            self.parts = [self._merged()]

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.parts:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        keys, where = np.unique(np.concatenate([k for k, _ in self.parts]), return_inverse=True)
        counts = np.bincount(where, weights=np.concatenate([c for _, c in self.parts]), minlength=len(keys))
        return keys, counts.astype(np.int64)

    def histograms(self, metrics: tuple[str, ...], names: dict[str, list[str]]) -> HistogramSet:
        keys, counts = self._merged()
        dims = ["all", *names]
        combos = keys >> self.VALUE_BITS
        values = keys & ((1 << self.VALUE_BITS) - 1)
        bounds = np.flatnonzero(np.diff(combos)) + 1
        out = HistogramSet()
        for start, end in zip(np.r_[0, bounds], np.r_[bounds, len(keys)], strict=True):
            if end > start:
                combo = int(combos[start])
                metric, dim = divmod(combo >> self.KEY_BITS, len(dims))
                code = combo & ((1 << self.KEY_BITS) - 1)
                key = "all" if dim == 0 else names[dims[dim]][code]
                out.histograms[(metrics[metric], dims[dim], key)] = Histogram(
                    values[start:end], counts[start:end]
                )
        return out


class Inline:
    """Runs folds at once; the replay passes a one-thread pool instead, so folds leave the event loop."""

    def spawn(self, fn: Callable[[], None]) -> None:
        fn()

    def join(self) -> None:
        pass


class Recorder:
    """Collects ``(channel, persona, event_type, due, ready, sent, done, outcome, status)`` rows.

    ``record`` only appends eight numbers to a flat array; every ``FLUSH_ROWS`` rows NumPy takes the
    array as it is and ``folds`` (a thread, in order) folds it into counts with GIL-free NumPy calls.
    """

    def __init__(
        self, registry: Registry, folds: Folds | None = None, live: LiveCounts | None = None
    ) -> None:
        self.registry = registry
        self.live = live  # the live metrics' counts, folded from the same rows
        self.folds: Folds = Inline() if folds is None else folds  # a pool with no task is falsy
        self.packed = Tallies()
        self.names: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
        self.counts: Counter[str] = Counter()
        self.status_codes: Counter[int] = Counter()
        self.errors_by_type: Counter[str] = Counter()
        self.error_samples: dict[str, str] = {}
        self.skipped: Counter[str] = Counter()  # "type (null field)": a text template met a null
        self.order_violations = 0
        self.checked = 0  # answers judged by continuity checks (--check)
        self.violations: Counter[tuple[str, str]] = Counter()  # (kind, channel)
        self.violation_samples: dict[str, list[dict[str, Any]]] = {}
        self._rows = array("d")  # flat doubles, ROW_WIDTH per event: NumPy reads it without copying

    def record(self, row: Row) -> None:
        self._rows.extend(row)
        if len(self._rows) >= FLUSH_ROWS * ROW_WIDTH:
            self.flush()

    def failed(self, kind: int, event_type: str, detail: str) -> None:
        name = OUTCOMES[kind]
        self.errors_by_type[event_type] += 1
        self.error_samples.setdefault(name, detail[:200])

    def violation(self, kind: str, channel: str, sample: dict[str, Any]) -> None:
        self.violations[(kind, channel)] += 1
        samples = self.violation_samples.setdefault(kind, [])
        if len(samples) < SAMPLES:
            samples.append(sample)

    def flush(self) -> None:
        if self._rows:
            table = np.frombuffer(self._rows, np.float64).reshape(-1, ROW_WIDTH)
            self._rows = array("d")
            names = {d: list(self.registry.names[d]) for d in DIMENSIONS}
            self.folds.spawn(lambda: self._fold(table, names))

    def _fold(self, table: np.ndarray, names: dict[str, list[str]]) -> None:
        outcome = table[:, 7].astype(np.int64)
        timed = outcome != UNANSWERED  # an unanswered request has no done time to measure
        due, ready, sent, done = table[:, 3], table[:, 4], table[:, 5], table[:, 6]
        seconds = {
            "lag": sent - due,
            "schedule_lag": sent - ready,
            "service": done - sent,
            "corrected": done - due,
        }
        if self.live is not None:
            codes = table[:, [0, 2, 8]].astype(np.int64)
            self.live.fold(codes[:, 0], codes[:, 1], outcome, codes[:, 2], seconds, names, OUTCOMES, timed)
        us = {m: np.maximum(np.rint(v[timed] * 1e6), 0).astype(np.int64) for m, v in seconds.items()}
        keys = {d: table[timed, column].astype(np.int64) for column, d in enumerate(DIMENSIONS)}
        if timed.any():
            self.packed.add(keys, us)
        outcomes, n = np.unique(outcome, return_counts=True)
        for kind, count in zip(outcomes.tolist(), n.tolist(), strict=True):
            self.counts[OUTCOMES[kind]] += count
        self.counts["sent"] += len(table)
        self.names = names

    def result(self) -> dict[str, Any]:
        """Everything measured, as plain data (what a worker sends to the master)."""
        self.flush()
        self.folds.join()
        return {
            "histograms": self.packed.histograms(METRICS, self.names).to_list(),
            "counts": dict(self.counts),
            "status_codes": {str(k): v for k, v in self.status_codes.items()},
            "errors_by_type": dict(self.errors_by_type),
            "error_samples": self.error_samples,
            "skipped": dict(self.skipped),
            "order_violations": self.order_violations,
            "checks": {
                "checked": self.checked,
                "violations": [[k, c, n] for (k, c), n in sorted(self.violations.items())],
                "samples": self.violation_samples,
            },
        }
