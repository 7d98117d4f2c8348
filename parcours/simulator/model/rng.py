"""Counter-based random streams: every draw is a pure function of (root seed, purpose, keys).

A draw for customer 42's third journey is the same whatever else is simulated, in whatever order, in
whichever shard: that is what makes runs reproducible, lets shards run anywhere, and keeps existing
customers' days unchanged when customers are added. The root key comes from NumPy's SeedSequence; each
draw is a SplitMix64-style hash of the key and the counters, vectorised over NumPy arrays.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53


class Purpose(IntEnum):
    """What a draw is for; each purpose is its own independent stream."""

    PERSONA = 1
    ACTIVITY = 2
    APP = 3
    ACCOUNT = 4
    OPT_IN = 5
    JOURNEYS = 6
    JOURNEY_HOUR = 7
    JOURNEY_MINUTE = 8
    SESSIONS = 9
    SESSION_GAP = 10
    CHANNEL = 11
    BUYS = 12
    EVENT_COUNT = 13
    DWELL = 14
    EVENT_KIND = 15
    PRODUCT = 16
    BASKET = 17
    ITEMS = 18
    LOGIN = 19
    CONTACTS = 20
    CONTACT_TIME = 21
    CONTACT_CHANNEL = 22
    PATIENCE = 23
    TALK = 24
    CALLBACK = 25
    ASSIST = 26
    IDENTITY = 27
    CART_ABANDON = 28
    CAMPAIGN = 29
    RESPONSE = 30
    STOCK = 31
    JOURNEY_PATH = 32
    RETURNS = 33
    MULTITASK = 34
    OUTAGE = 35
    RENEWAL = 36
    JOURNEY_DAY = 37
    PHASE = 38
    RECOGNISED = 39
    CROSS_SELL = 40
    SEND_ORDER = 41


def _mix(x: np.ndarray, scratch: np.ndarray) -> None:
    """SplitMix64's finaliser, in place on a uint64 array (``scratch`` avoids temporaries)."""
    for shift, mult in ((_S30, _M1), (_S27, _M2)):
        np.right_shift(x, shift, out=scratch)
        x ^= scratch
        x *= mult
    np.right_shift(x, _S31, out=scratch)
    x ^= scratch


_MASK = (1 << 64) - 1
_GOLDEN_INT = 0x9E3779B97F4A7C15


def _mix_int(x: int) -> int:
    """SplitMix64's finaliser on one Python int (the same function as ``_mix``)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class Streams:
    """The run's random streams, derived from one root seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._key = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])

    def bits(self, purpose: Purpose, *keys: np.ndarray | int) -> np.ndarray:
        """64 random bits per element, a function of the purpose and the keys (broadcast together).

        The keys are mixed in one at a time, each at the shape the keys so far broadcast to: keys that
        add an axis (a journey and step, then six draws for each) mix the first ones once, not six
        times. A handful of elements (a slice's few calls, a visit's draws) are mixed in plain Python,
        where NumPy's dozen calls per key cost more than the elements: the same function, so the same
        bits (``_bits_python`` and ``_bits_numpy`` are tested against each other)."""
        arrays = [np.asarray(k) for k in keys] if keys else [_NO_KEY]
        start = (self._key ^ (int(purpose) * _GOLDEN_INT)) & _MASK
        n = _few(arrays)
        if n is not None:
            return _bits_python(start, arrays, n)
        return _bits_numpy(start, arrays)

    def bits_one(self, purpose: Purpose, *keys: int) -> int:
        """``bits`` for one draw, in plain Python: a SimPy process asking for one value stays fast."""
        h = (self._key ^ (int(purpose) * _GOLDEN_INT)) & _MASK
        for k in keys:
            h = _mix_int(h ^ (((k & _MASK) * _GOLDEN_INT) & _MASK))
        return h

    def uniform(self, purpose: Purpose, *keys: np.ndarray | int) -> np.ndarray:
        """Uniform floats in [0, 1)."""
        h = self.bits(purpose, *keys)
        h >>= _S11
        out = np.multiply(h, _TO_UNIT)  # the 53 bits to a float exactly (as astype), then scaled
        return out if h.ndim else np.asarray(out)  # (a ufunc gives a 0-d array back as a scalar)

    def exponential(self, mean: np.ndarray | float, purpose: Purpose, *keys: np.ndarray | int) -> np.ndarray:
        """``-mean * log1p(-u)``, computed in the uniforms' own array where the shapes allow."""
        u = self.uniform(purpose, *keys)
        scale = np.negative(mean)
        if u.ndim == 0 or np.shape(scale) not in ((), u.shape):
            return scale * np.log1p(-u)
        np.negative(u, out=u)
        np.log1p(u, out=u)
        return np.multiply(scale, u, out=u)

    def normal(self, purpose: Purpose, *keys: np.ndarray | int) -> np.ndarray:
        """Standard normal draws (Box-Muller on two independent uniforms)."""
        u1 = self.uniform(purpose, *keys, 0)
        u2 = self.uniform(purpose, *keys, 1)
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)

    def poisson(self, lam: np.ndarray, purpose: Purpose, *keys: np.ndarray | int) -> np.ndarray:
        return poisson_from_uniform(np.asarray(lam, dtype=np.float64), self.uniform(purpose, *keys))


_NO_KEY = np.zeros(1, dtype=np.int64)  # no key: one draw
#: Up to this many elements, keys that are all scalars or of one length are mixed in plain Python.
PYTHON_MAX = 6


def _few(arrays: list[np.ndarray]) -> int | None:
    """The common length of integer keys that are scalars or one-dimensional, if at most
    ``PYTHON_MAX`` (-1: scalars only); None otherwise (NumPy's way)."""
    n = -1
    for a in arrays:
        if a.dtype.kind not in "biu":
            return None
        if a.ndim == 1:
            if n < 0:
                n = len(a)
                if n > PYTHON_MAX:
                    return None
            elif len(a) != n:
                return None
        elif a.ndim:
            return None
    return n


def _bits_python(start: int, arrays: list[np.ndarray], n: int) -> np.ndarray:
    """``_bits_numpy`` on Python ints, for keys that are scalars or of length ``n`` (-1: scalars only)."""
    values = [a.tolist() for a in arrays]
    hashes = [start] * (n if n >= 0 else 1)
    for v in values:
        if isinstance(v, list):
            hashes = [
                _mix_int(h ^ (((k & _MASK) * _GOLDEN_INT) & _MASK)) for h, k in zip(hashes, v, strict=True)
            ]
        else:
            term = ((v & _MASK) * _GOLDEN_INT) & _MASK
            hashes = [_mix_int(h ^ term) for h in hashes]
    if n < 0:
        return np.array(hashes[0], dtype=np.uint64)
    return np.array(hashes, dtype=np.uint64)


def _bits_numpy(start: int, arrays: list[np.ndarray]) -> np.ndarray:
    """Each key times the golden ratio, XORed into the hash and mixed, on NumPy arrays.

    A scalar key's term is one Python int, and the first key with a shape becomes the hash itself
    (cast, multiplied, XORed with what came before): fewer passes and calls than filling the shape
    first, for the same values (a cast to uint64 wraps negative ints as the in-place copy does)."""
    h = np.array(start, dtype=np.uint64)
    scratch = None
    # (no np.errstate: unsigned array arithmetic wraps without a warning, and the context manager
    # cost more than the hashing on the small arrays of a slice)
    for k in arrays:
        integer = k.dtype.kind in "biu"
        if integer and k.ndim == 0:
            h ^= np.uint64(((int(k) & _MASK) * _GOLDEN_INT) & _MASK)
        elif integer and h.ndim == 0:
            mixed = k.astype(np.uint64)
            mixed *= _GOLDEN
            mixed ^= h
            h = mixed
        else:
            if k.shape != h.shape and k.ndim:
                shape = k.shape if h.ndim == 0 else np.broadcast_shapes(h.shape, k.shape)
                if shape != h.shape:
                    h = np.full(shape, h, dtype=np.uint64)
            if scratch is None or scratch.shape != h.shape:
                scratch = np.empty_like(h)
            np.copyto(scratch, k, casting="unsafe")
            scratch *= _GOLDEN
            h ^= scratch
        if scratch is None or scratch.shape != h.shape:
            scratch = np.empty_like(h)
        _mix(h, scratch)
    return h


def poisson_from_uniform(lam: np.ndarray, u: np.ndarray, cap: int = 64) -> np.ndarray:
    """Inverse-CDF Poisson draws, vectorised; counts stop at ``cap`` (far in the tail for our rates).

    A draw's count is the number of its CDF terms at or below its uniform. When many draws share few
    rates by broadcasting (a store's stock: one rate per product, repeated for every store) each rate's
    terms are computed once and looked up;
    otherwise each round walks only the draws still above their running CDF. Both compute the terms
    with the same floating-point steps, so the counts are the same either way.
    """
    u = np.asarray(u)
    flat_u = u.ravel()
    full = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    # the rates as given, before broadcasting (a stock's: one per product, repeated for every store)
    base = full[tuple(slice(None) if stride else slice(0, 1) for stride in full.strides)]
    if len(flat_u) >= _TABLE_MIN and base.size * _TABLE_RATIO <= len(flat_u):
        rates, which = np.unique(base, return_inverse=True)
        which = np.broadcast_to(which.reshape(base.shape), u.shape).ravel()
        return _poisson_by_rate(rates, which, flat_u, cap).reshape(u.shape)
    flat_lam = full.ravel()
    p = np.exp(-flat_lam)
    k = np.zeros(flat_u.shape, dtype=np.int64)
    idx = np.flatnonzero(flat_u >= p)
    lam_a, p_a, cdf_a, u_a = flat_lam[idx], p[idx], p[idx], flat_u[idx]
    n = 0
    while len(idx) and n < cap:
        n += 1
        k[idx] += 1
        p_a = p_a * lam_a / n
        cdf_a = cdf_a + p_a
        keep = u_a >= cdf_a
        idx, lam_a, p_a, cdf_a, u_a = idx[keep], lam_a[keep], p_a[keep], cdf_a[keep], u_a[keep]
    return k.reshape(u.shape)


class PoissonTable:
    """Poisson draws whose rates come from a short table (one per channel, one per persona): each
    rate's CDF terms computed once, by the walk's recurrence, and a draw's count found by binary search
    among its rate's terms. ``draw(which, u)`` is ``poisson_from_uniform(rates[which], u)``."""

    def __init__(self, rates: np.ndarray, cap: int = 64) -> None:
        self.cdf = _cdf_rows(np.asarray(rates, dtype=np.float64), cap)

    def draw(self, which: np.ndarray, u: np.ndarray) -> np.ndarray:
        return _counts_by_row(self.cdf, np.asarray(which), np.asarray(u, dtype=np.float64))


def _cdf_rows(rates: np.ndarray, cap: int) -> np.ndarray:
    """Poisson CDF terms 0..cap-1 of each rate, by the recurrence the walk uses."""
    cdf = np.empty((len(rates), cap))
    p = np.exp(-rates)
    cdf[:, 0] = p
    for n in range(1, cap):
        p = p * rates / n
        cdf[:, n] = cdf[:, n - 1] + p
    return cdf


_TABLE_MIN = 65_536  # below this many draws the walk is cheap enough
_TABLE_RATIO = 64  # and the table pays when each rate is shared by at least this many draws


def _poisson_by_rate(rates: np.ndarray, which: np.ndarray, u: np.ndarray, cap: int) -> np.ndarray:
    """Counts for draws grouped by rate: one CDF row per rate, a binary search per draw."""
    return _counts_by_row(_cdf_rows(rates, cap), which, u)


def _counts_by_row(cdf: np.ndarray, which: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each draw, how many of its row's CDF terms are at or below its uniform."""
    small = which.astype(np.int16) if len(cdf) < 2**15 else which  # a radix sort for small ints
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(small[order], np.arange(len(cdf) + 1))
    k = np.empty(len(u), dtype=np.int64)
    for r in np.flatnonzero(np.diff(bounds)).tolist():
        rows = order[bounds[r] : bounds[r + 1]]
        k[rows] = np.searchsorted(cdf[r], u[rows], side="right")
    return k


def categorical(cum: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a category per row from the cumulative table ``cum[group]`` (shape groups x categories).

    One ``searchsorted`` for all groups: group g's cumulative values are shifted into (g, g+1].
    Many rows on a small table look their category up in a guide first (``_guided``): the same draws.
    """
    groups, k = cum.shape
    group = group.astype(np.int64, copy=False)
    shifted = (cum + np.arange(groups)[:, None]).ravel()
    n = np.size(u)
    if n >= GUIDE_MIN and np.shape(u) == group.shape and group.ndim == 1 and k < 2**31:
        guided = _guided(shifted, groups, k, group, np.asarray(u))
        if guided is not None:
            return guided
    return _searched(shifted, k, group, u)


def _searched(shifted: np.ndarray, k: int, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``categorical`` by one binary search per row in the shifted table."""
    x = np.add(u, group)
    idx = np.searchsorted(shifted, x, side="right")
    if not isinstance(idx, np.ndarray) or idx.ndim == 0 or x.shape != idx.shape or x.dtype.itemsize != 8:
        return np.minimum(idx - group * k, k - 1)
    # idx - group * k, at most k - 1: the group's offset written over x (no longer needed)
    offset = np.multiply(group, k, out=x.view(np.int64))
    idx -= offset
    return np.minimum(idx, k - 1, out=idx)


#: From this many rows, ``categorical`` looks rows up in a guide table (a month's plan: 0.5-1.2M rows
#: per call on tables of 200-2,700 entries, where NumPy's binary search costs 60-75 ns a row).
GUIDE_MIN = 65_536


def _guided(shifted: np.ndarray, groups: int, k: int, group: np.ndarray, u: np.ndarray) -> np.ndarray | None:
    """``_searched``'s draws, most found in a guide table (None where the guide cannot be used).

    For one group the draw never decreases as ``u`` grows (``u + g`` rounds monotonically and the
    table is sorted). Cut [0, 1) into ``bins`` equal bins (a power of two: ``u * bins`` and its floor
    are exact): where the draws at a bin's lowest and highest float agree, every ``u`` in the bin draws
    that category; only rows in the other bins (those holding a step of the table) are searched."""
    if not (shifted[1:] >= shifted[:-1]).all():  # not sorted (or NaN): the binary search alone
        return None
    if int(group.min()) < 0 or int(group.max()) >= groups or not (u.min() >= 0.0 and u.max() < 1.0):
        return None
    bins = 1 << max(6, min(12, (len(u) // (8 * groups)).bit_length() - 1))
    lows = np.arange(bins, dtype=np.float64) / bins
    highs = np.nextafter(lows + 1.0 / bins, 0.0)
    rows = np.repeat(np.arange(groups, dtype=np.int64), bins)
    first = _searched(shifted, k, rows, np.tile(lows, groups))
    last = _searched(shifted, k, rows, np.tile(highs, groups))
    guide = np.where(first == last, first, -1).reshape(groups, bins)
    cell = np.multiply(u, bins, dtype=np.float64)
    index = cell.view(np.int64)
    np.copyto(index, cell, casting="unsafe")  # the bin (u * bins >= 0: the cast is its floor)
    out = guide[group, index]
    unsure = np.flatnonzero(out < 0)
    if len(unsure):
        out[unsure] = _searched(shifted, k, group[unsure], u[unsure])
    return out


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities ending exactly at 1 (rows of zeros stay all-zero but for the end)."""
    totals = weights.sum(axis=1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    cum = np.cumsum(weights / safe, axis=1)
    cum[:, -1] = 1.0
    return cum
