"""Stable argsorts that NumPy's own sort makes faster: the same orders as ``np.argsort(kind="stable")``
and ``np.lexsort``, in about half the time on the millions of rows a month's plan sorts.

NumPy sorts plain integers with a vectorised sort (AVX-512 or AVX2 where the processor has them), but
an argsort, and any sort of floats by index, takes its slower general path. A key that holds both what
is sorted and the row's index (``key << bits | index``) sorts with the fast one, and its low bits are
then the stable order: equal keys keep their rows' order, as a stable argsort does. Floats are first
sorted by an integer that never decreases as they grow, then put in exact order within the few rows
that share one (a float in NaN or infinity, or keys too wide for one int64, take NumPy's own path).
"""

from __future__ import annotations

import numpy as np

_BITS = 63  # of an int64 key, the sign bit left alone
#: Keys with fewer steps down than one in this many rows are left to NumPy's timsort, which merges
#: their runs in a few passes (a month's journey ids, sorted per part: 0.07 s against 0.22 s).
NEARLY_SORTED = 16


def argsort_ints(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for integer keys."""
    n = len(keys)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64)
    if np.count_nonzero(keys[1:] < keys[:-1]) < n // NEARLY_SORTED:
        return np.argsort(keys, kind="stable")  # a few long runs: NumPy's timsort merges them at once
    low = int(keys.min())
    span = int(keys.max()) - low
    index_bits = (n - 1).bit_length()
    if span.bit_length() + index_bits > _BITS:
        return np.argsort(keys, kind="stable")
    packed = ((keys - low) << index_bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << index_bits) - 1
    return packed


def argsort_floats(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` for floats."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    low, high = float(values.min()), float(values.max())
    buckets = float((1 << (_BITS - (n - 1).bit_length())) - 1)
    with np.errstate(over="ignore", divide="ignore"):
        scale = buckets / (high - low) if high > low else 0.0
    # NaN or infinity, or a span too wide or too narrow for a finite scale: NumPy's own path
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(scale)) or (high > low and scale == 0):
        return np.argsort(values, kind="stable")
    # (v - low) * scale never decreases as v grows (each step rounds monotonically): equal values share
    # a bucket and a smaller value never lands in a later one; min(.., buckets) keeps rounding inside
    coarse = np.minimum(np.floor((values - low) * scale), buckets).astype(np.int64)
    return lexsort_within(values, coarse, argsort_ints(coarse))


def lexsort_groups(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``np.lexsort((values, groups))``: by group (integers), then value, then row."""
    return lexsort_within(values, groups, argsort_ints(groups))


def lexsort_within(values: np.ndarray, groups: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``np.lexsort((values, groups))`` from ``order``, the rows sorted by group alone (stably): the
    groups whose values are not already in order are sorted again, on their own rows only."""
    g, v = groups[order], values[order]
    same = g[1:] == g[:-1]
    unsorted = same & ~(v[1:] >= v[:-1])  # NaN compares false: its group is sorted again
    if not unsorted.any():
        return order
    bad = np.zeros(len(order), dtype=bool)
    bad[1:] = unsorted
    # every row of a group with a step back (groups are runs here): marked forward and backward
    group_start = np.flatnonzero(np.r_[True, ~same])
    run = np.cumsum(np.r_[True, ~same]) - 1
    bad_groups = np.zeros(len(group_start), dtype=bool)
    bad_groups[run[bad]] = True
    rows = np.flatnonzero(bad_groups[run])
    order[rows] = order[rows[np.lexsort((v[rows], g[rows]))]]
    return order
