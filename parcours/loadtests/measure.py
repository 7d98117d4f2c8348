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

from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from parcours.loadtests.histogram import HistogramSet

METRICS = ("lag", "schedule_lag", "service", "corrected")
DIMENSIONS = ("channel", "persona", "event_type")
#: How a request ended; the index is what a record stores.
OUTCOMES = ("ok", "status", "refused", "timeout", "closed", "other")
OK = 0
#: Records kept before folding them into histograms: bounds memory, keeps each fold to a few ms.
FLUSH_ROWS = 16_384
#: Rows converted to NumPy in one call while folding: short enough to let the event loop in between.
SLICE_ROWS = 1024

Row = tuple[int, int, int, float, float, float, float, int]


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


class Inline:
    """Runs folds at once; the replay passes a one-thread pool instead, so folds leave the event loop."""

    def spawn(self, fn: Callable[[], None]) -> None:
        fn()

    def join(self) -> None:
        pass


class Recorder:
    """Collects ``(channel, persona, event_type, due, ready, sent, done, outcome)`` rows.

    ``record`` only appends a tuple; every ``FLUSH_ROWS`` rows the batch is folded into histograms by
    ``folds`` (in order), which converts it in slices so a thread doing it lets the loop run between.
    """

    def __init__(self, registry: Registry, folds: Folds | None = None) -> None:
        self.registry = registry
        self.folds: Folds = folds or Inline()
        self.histograms = HistogramSet()
        self.counts: Counter[str] = Counter()
        self.status_codes: Counter[int] = Counter()
        self.errors_by_type: Counter[str] = Counter()
        self.error_samples: dict[str, str] = {}
        self.unmapped: Counter[str] = Counter()  # by event type: no request in the mapping
        self.skipped: Counter[str] = Counter()  # "type (null field)": a text template met a null
        self.order_violations = 0
        self._rows: list[Row] = []

    def record(self, row: Row) -> None:
        self._rows.append(row)
        if len(self._rows) >= FLUSH_ROWS:
            self.flush()

    def failed(self, kind: int, event_type: str, detail: str) -> None:
        name = OUTCOMES[kind]
        self.errors_by_type[event_type] += 1
        self.error_samples.setdefault(name, detail[:200])

    def flush(self) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            names = {d: list(self.registry.names[d]) for d in DIMENSIONS}
            self.folds.spawn(lambda: self._fold(rows, names))

    def _fold(self, rows: list[Row], names: dict[str, list[str]]) -> None:
        table = np.concatenate(
            [np.array(rows[k : k + SLICE_ROWS], np.float64) for k in range(0, len(rows), SLICE_ROWS)]
        )
        due, ready, sent, done = table[:, 3], table[:, 4], table[:, 5], table[:, 6]
        durations = {
            "lag": sent - due,
            "schedule_lag": sent - ready,
            "service": done - sent,
            "corrected": done - due,
        }
        outcomes = table[:, 7].astype(np.int64)
        for kind, n in zip(*np.unique(outcomes, return_counts=True), strict=True):
            self.counts[OUTCOMES[int(kind)]] += int(n)
        self.counts["sent"] += len(table)
        keys = {d: table[:, column].astype(np.int64) for column, d in enumerate(DIMENSIONS)}
        for metric, seconds in durations.items():
            us = np.maximum(np.rint(seconds * 1e6), 0).astype(np.int64)
            self.histograms.get(metric).add(us)
            for dimension in DIMENSIONS:
                self.histograms.add(metric, dimension, keys[dimension], names[dimension], us)

    def result(self) -> dict[str, Any]:
        """Everything measured, as plain data (what a worker sends to the master)."""
        self.flush()
        self.folds.join()
        return {
            "histograms": self.histograms.to_list(),
            "counts": dict(self.counts),
            "status_codes": {str(k): v for k, v in self.status_codes.items()},
            "errors_by_type": dict(self.errors_by_type),
            "error_samples": self.error_samples,
            "unmapped": dict(self.unmapped),
            "skipped": dict(self.skipped),
            "order_violations": self.order_violations,
        }
