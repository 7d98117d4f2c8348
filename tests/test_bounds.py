"""Intervals that respect their figure: shares inside [0, 1], counts and amounts not below 0."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.report.numbers.bounds import (
    COUNT,
    MIN_UNITS,
    SHARE,
    SIGNED,
    bounded_mean,
    few_replicates,
    rate,
    within,
)


def test_one_success_in_three_stays_within_0_and_1() -> None:
    r = rate(1, 3)
    assert 0.0 < r.low < 1 / 3 < r.high < 1.0
    assert r.too_few and r.as_json()["n"] == 3


def test_none_and_all_reach_the_bound_they_sit_on() -> None:
    assert rate(0, 50).low == 0.0 and rate(0, 50).high < 0.1
    assert rate(50, 50).high == 1.0 and rate(50, 50).low > 0.9
    assert not rate(10, MIN_UNITS).too_few
    assert math.isnan(rate(0, 0).value)


def test_the_abandonment_of_three_replicates_that_went_below_zero() -> None:
    """The issue's case: calls given up 5.8% [-1.2, 12.8]% over three replicates."""
    values = [0.03, 0.03, 0.114]
    plain_half = 4.303 * np.std(values, ddof=1) / math.sqrt(3)
    assert np.mean(values) - plain_half < 0  # the t-interval crossed zero
    e = bounded_mean(values, SHARE)
    assert 0.0 < e.ci_low < e.mean < e.ci_high < 1.0
    assert e.n == 3


def test_a_count_with_a_zero_replicate_is_cut_at_zero() -> None:
    e = bounded_mean([0.0, 4.0, 8.0], COUNT)
    assert e.ci_low == 0.0 and e.ci_high > 8.0 and e.mean == 4.0


def test_a_difference_keeps_its_sign() -> None:
    e = bounded_mean([-1.0, 0.5, 2.0], SIGNED)
    assert e.ci_low < 0 < e.ci_high


def test_one_replicate_has_no_interval_and_a_warning() -> None:
    e = bounded_mean([0.2], SHARE)
    assert e.mean == 0.2 and not e.has_interval
    assert "replicate" in few_replicates(1) and "replicates" in few_replicates(2)
    assert few_replicates(3) == ""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8),
    st.lists(st.floats(0.0, 1e7), min_size=2, max_size=8),
)
def test_no_bounded_interval_crosses_its_bound(shares: list[float], counts: list[float]) -> None:
    s, c = bounded_mean(shares, SHARE), bounded_mean(counts, COUNT)
    assert within(s, SHARE) and within(c, COUNT)
    assert s.ci_low <= s.mean <= s.ci_high
    assert c.ci_low <= c.mean <= c.ci_high
