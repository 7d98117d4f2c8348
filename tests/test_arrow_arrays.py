"""output/arrays.py builds what ``pa.array`` and ``pyarrow.compute`` build (the Parquet bytes hang on it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.output.arrays import column, concatenated, decimal_strings, string_lists, strings, take
from parcours.output.schema import TIMESTAMP

RNG = np.random.default_rng(7)
INTS = RNG.integers(-1, 3000, 41)


@pytest.mark.parametrize(
    ("values", "arrow_type"),
    [
        (INTS, None),
        (INTS, pa.int64()),
        (INTS, pa.int32()),  # narrowed, as the writers' store ids are
        (INTS.astype(np.int8), pa.int16()),  # widened
        (INTS.astype(np.int16)[::3], None),  # not contiguous
        (INTS.astype(np.uint64), pa.int64()),
        (INTS * 1000 + 1_700_000_000_000, TIMESTAMP),
        (RNG.random(41), pa.float32()),
        (RNG.random(41).astype(np.float32), None),
        (np.zeros(0, np.int64), pa.int64()),
    ],
)
def test_a_column_is_the_array_pa_array_builds(values: np.ndarray, arrow_type: pa.DataType | None) -> None:
    expected = pa.array(values, arrow_type)
    built = column(values, arrow_type)
    assert built.type == expected.type and built.null_count == 0
    assert built.equals(expected)


def test_a_masked_column_has_the_same_nulls() -> None:
    floats = np.where(INTS % 3 == 0, np.nan, INTS / 7)
    for values, arrow_type, mask in [
        (INTS, pa.int32(), INTS % 5 == 0),
        (floats, pa.float32(), np.isnan(floats)),
    ]:
        expected = pa.array(values, arrow_type, mask=mask)
        built = column(values, arrow_type, mask=mask)
        assert built.null_count == expected.null_count > 0
        assert built.equals(expected)
        assert built.slice(5, 17).equals(expected.slice(5, 17))  # the validity bits line up at any offset


def test_a_cast_that_changes_a_value_is_refused() -> None:
    with pytest.raises(OverflowError):
        column(np.array([1, 200]), pa.int8())
    with pytest.raises(TypeError):
        column(np.array([1.5]), pa.int64())
    with pytest.raises(TypeError):
        column(np.array([True]), pa.bool_())
    with pytest.raises(ValueError, match="mask"):
        column(INTS, pa.int64(), mask=np.zeros(3, bool))


def test_strings_and_lists_of_strings_are_pa_arrays() -> None:
    words = ["store", "", "mobile_web-acct-", "café", "ünïcode ✓"]
    assert strings(words).equals(pa.array(words, pa.string()))
    assert strings([]).equals(pa.array([], pa.string()))
    rows = [["web", "app"], [], ["store"], ["café", "", "x"]]
    built = string_lists(rows)
    assert built.type == pa.list_(pa.string())
    assert built.equals(pa.array(rows, pa.list_(pa.string())))


def test_the_kernels_give_what_pyarrow_compute_gives() -> None:
    words, at = strings(["acct-", "web-", "café-"]), column(np.array([2, 0, 0, 1], np.int16))
    assert take(words, at).equals(pc.take(words, at))
    with pytest.raises(IndexError):
        take(words, column(np.array([3])))
    numbers = column(np.array([0, 7, -12, 999_999_999_999]))
    assert decimal_strings(numbers).equals(pc.cast(numbers, pa.string()))
    digits = decimal_strings(numbers)
    joined = concatenated(take(words, at), digits)
    assert joined.equals(pc.binary_join_element_wise(take(words, at), digits, ""))
    assert joined.to_pylist() == ["café-0", "acct-7", "acct--12", "web-999999999999"]
