"""Arrow arrays from NumPy columns and Python strings, built from their buffers, and the few kernels
the writers call.

``pa.array`` asks pandas, on its first call in a process, whether what it converts is a pandas object;
where pandas is installed that imports it: 0.2 to 0.3 s, more than all the other imports of a small
``parcours simulate``, in a process that never holds a pandas object. The writers build their columns
here instead: the same arrays (type, values, nulls), so the same Parquet bytes.

``pyarrow.compute`` builds a Python function with a docstring for each of its hundreds of kernels when
it is imported (20 to 30 ms, a tenth of the start of a simulate); the writers need three kernels, which
``pyarrow._compute.call_function`` (what every ``pyarrow.compute`` function calls) runs with the same
options, so the same results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from pyarrow._compute import CastOptions, TakeOptions, call_function


def column(
    values: np.ndarray, arrow_type: pa.DataType | None = None, mask: np.ndarray | None = None
) -> pa.Array:
    """``values`` as an Arrow array of ``arrow_type`` (by default the array's own), null where ``mask``.

    Numbers only: integers, floats, and timestamps or durations from int64 counts of their unit. As with
    ``pa.array``, integers cast to a narrower type must keep their values (an OverflowError if not).
    """
    arrow_type = pa.from_numpy_dtype(values.dtype) if arrow_type is None else arrow_type
    data = _cast(np.asarray(values), _numpy_dtype(arrow_type))
    if mask is None:
        return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)], null_count=0)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != data.shape:
        raise ValueError(f"mask of {mask.shape} for values of {data.shape}")
    validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    nulls = int(np.count_nonzero(mask))
    return pa.Array.from_buffers(arrow_type, len(data), [validity, pa.py_buffer(data)], null_count=nulls)


def strings(values: Sequence[str]) -> pa.Array:
    """A string array of ``values`` (none null)."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    offsets[1:] = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=0)


def string_lists(rows: Sequence[Sequence[str]]) -> pa.ListArray:
    """A ``list<string>`` array with one list per row."""
    offsets = np.zeros(len(rows) + 1, np.int32)
    offsets[1:] = np.cumsum(np.fromiter(map(len, rows), np.int64, len(rows)))
    return pa.ListArray.from_arrays(column(offsets), strings([value for row in rows for value in row]))


def take(values: pa.Array, indices: pa.Array) -> pa.Array:
    """``values`` at ``indices``, as ``pc.take`` and ``Array.take`` (bounds checked)."""
    return call_function("take", [values, indices], TakeOptions(boundscheck=True))


def decimal_strings(values: pa.Array) -> pa.Array:
    """Integers as their decimal strings, as ``pc.cast(values, pa.string())``."""
    return call_function("cast", [values], CastOptions.safe(pa.string()))


def concatenated(*parts: pa.Array) -> pa.Array:
    """String arrays joined element by element, as ``pc.binary_join_element_wise(*parts, "")``."""
    return call_function("binary_join_element_wise", [*parts, _NO_SEPARATOR])


def _numpy_dtype(arrow_type: pa.DataType) -> np.dtype:
    """The NumPy type of ``arrow_type``'s values buffer."""
    if pa.types.is_floating(arrow_type):
        kind = "f"
    elif pa.types.is_unsigned_integer(arrow_type):
        kind = "u"
    elif (
        pa.types.is_integer(arrow_type)
        or pa.types.is_timestamp(arrow_type)
        or pa.types.is_duration(arrow_type)
    ):
        kind = "i"
    else:
        raise TypeError(f"no NumPy buffer for Arrow type {arrow_type}")
    return np.dtype(f"{kind}{arrow_type.bit_width // 8}")


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` as a contiguous array of ``dtype``; integers that the cast would change raise."""
    if values.ndim != 1:
        raise ValueError(f"a column is one-dimensional, not of shape {values.shape}")
    if values.dtype == dtype:
        return np.ascontiguousarray(values)
    if values.dtype.kind not in "iuf" or (values.dtype.kind == "f" and dtype.kind != "f"):
        raise TypeError(f"cannot build a {dtype} column from {values.dtype} values")
    cast = np.ascontiguousarray(values, dtype=dtype)
    if dtype.kind != "f" and not np.array_equal(cast, values):
        raise OverflowError(f"values out of range for {dtype}")
    return cast


_NO_SEPARATOR = strings([""])[0]  # pa.scalar would ask pandas too
