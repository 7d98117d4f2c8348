"""Exact histograms: percentiles are the measured values themselves, merging equals pooling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcours.loadtests.histogram import Histogram, HistogramSet, quantile_name
from parcours.loadtests.measure import Recorder, Registry

samples = st.lists(st.integers(0, 5_000_000), min_size=1, max_size=300)


def nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@given(samples, st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]))
def test_quantiles_are_exact_nearest_ranks(values: list[int], q: float) -> None:
    assert Histogram.of(values).quantile_us(q) == nearest_rank(values, q)


@given(samples, samples)
def test_merging_equals_pooling(a: list[int], b: list[int]) -> None:
    merged = Histogram.of(a)
    merged.merge(Histogram.of(b))
    pooled = Histogram.of(a + b)
    assert merged.values.tolist() == pooled.values.tolist()
    assert merged.counts.tolist() == pooled.counts.tolist()
    assert Histogram.from_dict(merged.to_dict()).to_dict() == pooled.to_dict()


def test_stats_are_in_milliseconds_to_the_microsecond() -> None:
    stats = Histogram.of([1_234, 2_000, 1_000_001]).stats_ms()
    assert stats == {
        "count": 3,
        "mean": 334.412,
        "p50": 2.0,
        "p90": 1000.001,
        "p95": 1000.001,
        "p99": 1000.001,
        "p99.9": 1000.001,
        "max": 1000.001,
    }
    assert quantile_name(0.999) == "p99.9" and quantile_name(0.5) == "p50"


def test_the_recorder_splits_by_dimension_and_counts_outcomes() -> None:
    registry = Registry()
    rec = Recorder(registry)
    web, app = registry.code("channel", "web"), registry.code("channel", "app")
    young = registry.code("persona", "young")
    view = registry.code("event_type", "page_view")
    # due, ready, sent, done: lag 1 ms, schedule lag 0.5 ms, service 10 ms / 20 ms
    rec.record((web, young, view, 0.0, 0.0005, 0.001, 0.011, 0, 200))
    rec.record((app, young, view, 1.0, 1.0005, 1.001, 1.021, 1, 503))
    result = rec.result()
    assert result["counts"] == {"ok": 1, "status": 1, "sent": 2}
    hs = HistogramSet.from_list(result["histograms"])
    assert hs.get("service", "channel", "web").values.tolist() == [10_000]
    assert hs.get("service", "channel", "app").values.tolist() == [20_000]
    assert hs.get("corrected").values.tolist() == [11_000, 21_000]
    assert hs.get("schedule_lag").values.tolist() == [500]
    assert hs.get("lag", "persona", "young").count == 2


def test_an_empty_histogram_has_no_quantile() -> None:
    with pytest.raises(ValueError):
        Histogram().quantile_us(0.5)
    assert Histogram().stats_ms() == {"count": 0}
    assert np.array_equal(Histogram.of([]).values, np.empty(0))
