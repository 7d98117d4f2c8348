"""The faster stable sorts (simulator/model/sorting.py) give NumPy's own orders, ties and odd floats too."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from parcours.simulator.model.sorting import (
    NEARLY_SORTED,
    argsort_floats,
    argsort_ints,
    lexsort_groups,
    sort_ints,
)

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1.0 + 2**-52, 5e-324, 1e300, -1e300]),
)
INTS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(0, 5))


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 400), elements=INTS))
def test_argsort_ints_is_numpys_stable_argsort(keys: np.ndarray) -> None:
    assert argsort_ints(keys).tolist() == np.argsort(keys, kind="stable").tolist()


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 400), elements=INTS))
def test_sort_ints_gives_the_stable_order_and_the_sorted_keys(keys: np.ndarray) -> None:
    order, in_order = sort_ints(keys)
    assert order.tolist() == np.argsort(keys, kind="stable").tolist()
    assert in_order.dtype == np.int64 and in_order.tolist() == np.sort(keys).tolist()


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 400), elements=FLOATS))
def test_argsort_floats_is_numpys_stable_argsort(values: np.ndarray) -> None:
    assert argsort_floats(values).tolist() == np.argsort(values, kind="stable").tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 400).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=FLOATS), hnp.arrays(np.int64, n, elements=st.integers(0, 30))
        )
    )
)
def test_lexsort_groups_is_numpys_lexsort(pair: tuple[np.ndarray, np.ndarray]) -> None:
    values, groups = pair
    assert lexsort_groups(values, groups).tolist() == np.lexsort((values, groups)).tolist()


def test_every_path_on_large_inputs() -> None:
    """Random keys (the packed sort), nearly sorted ones (NumPy's timsort), wide ones (NumPy's argsort),
    and floats whose buckets hold ties and near-ties (the exact pass within a bucket)."""
    rng = np.random.default_rng(7)
    n = 200_000
    spread = rng.integers(0, 1000, n)
    nearly = np.sort(rng.integers(0, 10**6, n))
    nearly[:: NEARLY_SORTED * 4] = 0
    wide = rng.integers(-(2**62), 2**62, n)
    for keys in (spread, nearly, wide):
        assert (argsort_ints(keys) == np.argsort(keys, kind="stable")).all()
    ties = rng.integers(0, 5000, n) / 7.0
    ties[::3] = np.nextafter(ties[::3], np.inf)  # neighbours a bucket cannot tell apart
    assert (argsort_floats(ties) == np.argsort(ties, kind="stable")).all()
    groups = np.sort(rng.integers(0, n // 4, n))
    assert (lexsort_groups(ties, groups) == np.lexsort((ties, groups))).all()
