"""The counter-based streams: deterministic, uniform, independent of how draws are batched."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.simulator.model.rng import (
    GUIDE_MIN,
    PYTHON_MAX,
    PoissonTable,
    Purpose,
    Streams,
    _bits_numpy,
    _bits_python,
    _few,
    _searched,
    categorical,
    cumulative,
    poisson_from_uniform,
)


@given(seed=st.integers(0, 2**63), keys=st.lists(st.integers(0, 2**40), min_size=1, max_size=50))
@settings(max_examples=50, deadline=None)
def test_a_draw_depends_only_on_seed_purpose_and_keys(seed: int, keys: list[int]) -> None:
    s = Streams(seed)
    together = s.uniform(Purpose.CHANNEL, np.array(keys), 3)
    alone = np.array([s.uniform(Purpose.CHANNEL, np.array([k]), 3)[0] for k in keys])
    assert np.array_equal(together, alone)
    assert ((together >= 0) & (together < 1)).all()
    assert (
        not np.array_equal(together, Streams(seed).uniform(Purpose.DWELL, np.array(keys), 3))
        or len(keys) == 0
    )


def test_uniforms_are_uniform_and_uncorrelated() -> None:
    u = Streams(1).uniform(Purpose.DWELL, np.arange(200_000))
    assert abs(u.mean() - 0.5) < 0.005
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 19_000
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    v = Streams(2).uniform(Purpose.DWELL, np.arange(200_000))
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


@given(
    weights=st.lists(
        st.lists(st.floats(0, 10), min_size=3, max_size=6).filter(lambda w: sum(w) > 0.1),
        min_size=1,
        max_size=200,
    ),
)
@settings(max_examples=30, deadline=None)
def test_categorical_never_draws_a_zero_weight_category(weights: list[list[float]]) -> None:
    width = max(len(w) for w in weights)
    table = np.array([w + [0.0] * (width - len(w)) for w in weights])
    cum = cumulative(table)
    group = np.repeat(np.arange(len(table)), 50)
    u = Streams(3).uniform(Purpose.CHANNEL, np.arange(len(group)))
    drawn = categorical(cum, group.astype(np.int8 if len(table) < 128 else np.int16), u)
    assert (table[group, drawn] > 0).all()


def test_categorical_follows_the_weights_in_every_group() -> None:
    table = np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 1.0], [0.7, 0.3, 0.0]] * 60)  # 180 groups: past int8
    group = np.repeat(np.arange(len(table)), 2000).astype(np.int16)
    drawn = categorical(cumulative(table), group, Streams(4).uniform(Purpose.CHANNEL, np.arange(len(group))))
    for g in (0, 1, 2, 177, 178, 179):
        counts = np.bincount(drawn[group == g], minlength=3) / 2000
        assert np.allclose(counts, table[g], atol=0.04), (g, counts)


def test_poisson_has_the_right_mean_and_variance() -> None:
    u = Streams(5).uniform(Purpose.JOURNEYS, np.arange(100_000))
    k = poisson_from_uniform(np.full(len(u), 2.5), u)
    assert abs(k.mean() - 2.5) < 0.03 and abs(k.var() - 2.5) < 0.08


@given(seed=st.integers(0, 2**63), keys=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=4))
@settings(max_examples=100, deadline=None)
def test_one_draw_in_python_equals_the_vectorised_draw(seed: int, keys: list[int]) -> None:
    s = Streams(seed)
    vectorised = s.bits(Purpose.IDENTITY, *[np.array([k], dtype=np.int64) for k in keys])[0]
    assert s.bits_one(Purpose.IDENTITY, *keys) == int(vectorised)


@given(
    seed=st.integers(0, 2**63),
    rows=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=6),
    steps=st.lists(st.integers(0, 63), min_size=1, max_size=5),
    extra=st.integers(0, 9),
)
@settings(max_examples=60, deadline=None)
def test_broadcast_keys_draw_what_each_element_draws_alone(
    seed: int, rows: list[int], steps: list[int], extra: int
) -> None:
    """Keys of several shapes (a row per journey, a column per draw, a constant) give every element
    the draw of its own keys, whatever axis each key adds."""
    s = Streams(seed)
    r, k = np.array(rows, dtype=np.int64), np.array(steps, dtype=np.int64)
    for keys, pick in (
        ((r[:, None], k[None, :], extra), lambda i, j: (rows[i], steps[j], extra)),
        ((extra, r[:, None], k[None, :]), lambda i, j: (extra, rows[i], steps[j])),
        ((k[None, :], r[:, None]), lambda i, j: (steps[j], rows[i])),
    ):
        drawn = s.bits(Purpose.STOCK, *keys)
        assert drawn.shape == (len(rows), len(steps))
        for i in range(len(rows)):
            for j in range(len(steps)):
                assert int(drawn[i, j]) == s.bits_one(Purpose.STOCK, *pick(i, j))


@given(
    rates=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=20),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=60, deadline=None)
def test_poisson_from_a_table_of_rates_counts_as_the_walk_does(rates: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = np.array(rates)
    which = rng.integers(0, len(rates), 2000)
    u = rng.random(2000)
    assert np.array_equal(PoissonTable(table).draw(which, u), poisson_from_uniform(table[which], u))


_KEY_DTYPES = (np.int64, np.int32, np.int16, np.int8, np.uint64, np.bool_)


@given(
    seed=st.integers(0, 2**63),
    n=st.integers(-1, 6),
    keys=st.lists(
        st.tuples(st.sampled_from(range(len(_KEY_DTYPES))), st.booleans(), st.integers(0, 2**64 - 1)),
        min_size=1,
        max_size=4,
    ),
)
@settings(max_examples=200, deadline=None)
def test_a_few_elements_mixed_in_python_give_the_bits_numpy_gives(
    seed: int, n: int, keys: list[tuple[int, bool, int]]
) -> None:
    """Keys of every integer type (negative values wrap as a cast does), scalars or of one length up to
    ``PYTHON_MAX``: the plain-Python mixing is the NumPy one, element for element."""
    rng = np.random.default_rng(seed % 2**32)
    arrays = []
    for which, scalar, value in keys:
        dtype = np.dtype(_KEY_DTYPES[which])
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        if n < 0 or scalar:
            v = bool(value & 1) if info is None else info.min + value % (int(info.max) - int(info.min) + 1)
            arrays.append(np.asarray(v, dtype=dtype))
        elif info is None:
            arrays.append(rng.random(n) < 0.5)
        else:
            arrays.append(rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True))
    start = seed * 0x9E3779B97F4A7C15 % 2**64
    length = _few(arrays)
    expected = _bits_numpy(start, arrays)
    drawn = _bits_python(start, arrays, length if length is not None else n)
    assert drawn.dtype == expected.dtype == np.uint64 and drawn.shape == expected.shape
    assert np.array_equal(drawn, expected)


def test_bits_takes_the_python_way_only_for_a_few_elements_of_integer_keys() -> None:
    ints = np.arange(PYTHON_MAX, dtype=np.int64)
    assert _few([ints, np.asarray(3)]) == PYTHON_MAX
    assert _few([np.asarray(3), np.asarray(True)]) == -1
    assert _few([np.arange(PYTHON_MAX + 1)]) is None  # NumPy's: more elements
    assert _few([ints, ints[:2]]) is None  # lengths that broadcast, or not: NumPy decides
    assert _few([ints[:, None]]) is None and _few([ints.astype(float)]) is None
    s = Streams(9)
    for n in (0, 1, PYTHON_MAX, PYTHON_MAX + 1, 50):  # both ways, through the public call
        keys = (np.arange(n, dtype=np.int64) * 7919 - 40, 3)
        alone = [s.bits_one(Purpose.STOCK, int(k), 3) for k in keys[0]]
        assert s.bits(Purpose.STOCK, *keys).tolist() == alone


@given(
    seed=st.integers(0, 2**63),
    keys=st.lists(st.integers(0, 2**40), min_size=0, max_size=40),
    means=st.one_of(st.floats(0.01, 1e6), st.lists(st.floats(0.0, 1e6), min_size=40, max_size=40)),
)
@settings(max_examples=60, deadline=None)
def test_draws_made_in_their_own_arrays_are_the_formulas_draws(
    seed: int, keys: list[int], means: float | list[float]
) -> None:
    """exponential and categorical write into arrays they already hold: the same values as their
    formulas computed on fresh arrays (as they were before); uniform is its bits' formula."""
    s = Streams(seed)
    k = np.array(keys, dtype=np.int64)
    bits = s.bits(Purpose.DWELL, k, 2)
    u = s.uniform(Purpose.DWELL, k, 2)
    assert u.dtype == np.float64 and u.shape == k.shape
    assert np.array_equal(u, (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53)
    mean = np.asarray(means)[: len(k)] if isinstance(means, list) else means
    expected = -np.asarray(mean) * np.log1p(-u)
    assert np.array_equal(s.exponential(mean, Purpose.DWELL, k, 2), expected)
    assert np.array_equal(
        s.exponential(np.full((3, len(k)), 2.0), Purpose.DWELL, k, 2),
        -2.0 * np.log1p(-u)[None, :] * np.ones((3, 1)),
    )
    table = cumulative(np.abs(np.sin(np.arange(1, 31, dtype=np.float64))).reshape(6, 5))
    group = k % 6
    shifted = (table + np.arange(6)[:, None]).ravel()
    formula = np.minimum(np.searchsorted(shifted, u + group, side="right") - group * 5, 4)
    assert np.array_equal(categorical(table, group, u), formula)
    assert np.array_equal(
        categorical(table, group.astype(np.int8), u.astype(np.float32)),
        np.minimum(np.searchsorted(shifted, u.astype(np.float32) + group, side="right") - group * 5, 4),
    )


@given(
    weights=st.lists(st.lists(st.floats(0, 10), min_size=2, max_size=9), min_size=1, max_size=40),
    seed=st.integers(0, 2**32),
    edges=st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_categorical_through_its_guide_draws_what_the_binary_search_draws(
    weights: list[list[float]], seed: int, edges: bool
) -> None:
    """Many rows take the guide table (``_guided``): the same draws as one binary search per row,
    uniforms on the guide's bin edges and next to the table's steps included."""
    width = max(len(w) for w in weights)
    table = np.array([w + [0.0] * (width - len(w)) for w in weights])
    cum = cumulative(table)
    n = GUIDE_MIN + 1000
    group = np.random.default_rng(seed).integers(0, len(table), n)
    u = Streams(seed).uniform(Purpose.CHANNEL, np.arange(n))
    if edges:  # bin edges, the floats just below them, and the table's own steps
        cut = np.arange(1, 4097) / 4096.0
        steps = cum[group[: width * len(table)] % len(table)].ravel()[: width * len(table)]
        special = np.concatenate([cut, np.nextafter(cut, 0.0), steps, np.nextafter(steps, 0.0)])
        special = special[(special >= 0) & (special < 1)]
        u[: len(special)] = special
    shifted = (cum + np.arange(len(table))[:, None]).ravel()
    assert np.array_equal(categorical(cum, group, u), _searched(shifted, width, group, u))
    assert np.array_equal(
        categorical(cum, group.astype(np.int16), u.astype(np.float32)),
        _searched(shifted, width, group, u.astype(np.float32)),
    )


def test_categorical_falls_back_to_the_search_where_the_guide_cannot_hold() -> None:
    n = GUIDE_MIN * 2
    u = Streams(9).uniform(Purpose.CHANNEL, np.arange(n))
    group = np.arange(n) % 3
    unsorted = np.array([[0.5, 0.4, 1.0], [0.2, 0.7, 1.0], [0.1, 0.2, 1.0]])  # a row stepping down
    shifted = (unsorted + np.arange(3)[:, None]).ravel()
    assert np.array_equal(categorical(unsorted, group, u), _searched(shifted, 3, group, u))
    sorted_ = cumulative(np.ones((3, 3)))
    wide = u.copy()
    wide[5] = 1.5  # a value outside [0, 1)
    shifted = (sorted_ + np.arange(3)[:, None]).ravel()
    assert np.array_equal(categorical(sorted_, group, wide), _searched(shifted, 3, group, wide))
