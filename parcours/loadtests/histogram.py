"""Exact, mergeable histograms of microsecond durations.

Why not HdrHistogram-style buckets: a replay sends millions of requests, not billions, and durations
measured to the microsecond take far fewer distinct values than that (a second holds a million, real
spreads hold a few thousand). So a histogram here is the sorted distinct values with their counts:
percentiles are exact (nearest rank on the very values measured, never rounded the way Locust's are),
merging two is a sorted union, and the size follows the spread of the data, not a bucket layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

#: Percentiles every summary reports.
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)


class Histogram:
    """Counts of integer microsecond values."""

    __slots__ = ("counts", "values")

    def __init__(self, values: np.ndarray | None = None, counts: np.ndarray | None = None) -> None:
        self.values = np.empty(0, np.int64) if values is None else values
        self.counts = np.empty(0, np.int64) if counts is None else counts

    @classmethod
    def of(cls, samples_us: Iterable[int] | np.ndarray) -> Histogram:
        h = cls()
        h.add(np.asarray(samples_us, np.int64))
        return h

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def add(self, samples_us: np.ndarray) -> None:
        if len(samples_us):
            values, counts = np.unique(samples_us.astype(np.int64, copy=False), return_counts=True)
            self._fold(values, counts.astype(np.int64))

    def merge(self, other: Histogram) -> None:
        self._fold(other.values, other.counts)

    def _fold(self, values: np.ndarray, counts: np.ndarray) -> None:
        if not len(self.values):
            self.values, self.counts = values.copy(), counts.copy()
            return
        both = np.concatenate([self.values, values])
        self.values, where = np.unique(both, return_inverse=True)
        self.counts = np.bincount(
            where, weights=np.concatenate([self.counts, counts]), minlength=len(self.values)
        )
        self.counts = self.counts.astype(np.int64)

    def quantile_us(self, q: float) -> int:
        """The nearest-rank quantile: the smallest value with at least ``q`` of the samples at or below it."""
        if not len(self.values):
            raise ValueError("no samples")
        rank = max(1, int(np.ceil(q * self.count)))
        return int(self.values[np.searchsorted(np.cumsum(self.counts), rank)])

    def mean_us(self) -> float:
        return float((self.values * self.counts).sum() / self.count)

    def stats_ms(self) -> dict[str, float | int]:
        """Count, mean, percentiles and max, in milliseconds (to the microsecond)."""
        if not len(self.values):
            return {"count": 0}
        out: dict[str, float | int] = {"count": self.count, "mean": round(self.mean_us() / 1000, 3)}
        for q in QUANTILES:
            out[quantile_name(q)] = self.quantile_us(q) / 1000
        out["max"] = int(self.values[-1]) / 1000
        return out

    def to_dict(self) -> dict[str, list[int]]:
        return {"values": self.values.tolist(), "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Histogram:
        return cls(np.asarray(d["values"], np.int64), np.asarray(d["counts"], np.int64))


def quantile_name(q: float) -> str:
    """0.5 -> p50, 0.999 -> p99.9"""
    return "p" + f"{q * 100:.1f}".removesuffix(".0")


class HistogramSet:
    """Histograms keyed by (metric, dimension, key), e.g. ("service", "channel", "mobile_app")."""

    def __init__(self) -> None:
        self.histograms: dict[tuple[str, str, str], Histogram] = {}

    def get(self, metric: str, dimension: str = "all", key: str = "all") -> Histogram:
        return self.histograms.setdefault((metric, dimension, key), Histogram())

    def add(
        self, metric: str, dimension: str, keys: np.ndarray, names: list[str], samples_us: np.ndarray
    ) -> None:
        """Add samples grouped by integer ``keys`` (codes into ``names``)."""
        order = np.argsort(keys, kind="stable")
        keys, samples_us = keys[order], samples_us[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        for part_keys, part in zip(np.split(keys, bounds), np.split(samples_us, bounds), strict=True):
            if len(part):
                self.get(metric, dimension, names[int(part_keys[0])]).add(part)

    def merge(self, other: HistogramSet) -> None:
        for (metric, dimension, key), h in other.histograms.items():
            self.get(metric, dimension, key).merge(h)

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {"metric": m, "dimension": d, "key": k, **h.to_dict()} for (m, d, k), h in self.histograms.items()
        ]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> HistogramSet:
        hs = cls()
        for item in items:
            hs.histograms[(item["metric"], item["dimension"], item["key"])] = Histogram.from_dict(item)
        return hs
