"""``parcours compare`` of single runs (no replicates): each figure says its n, each difference has its
interval over those units and is marked when a sample that size cannot tell it from zero. Real runs of
the simulator, small on purpose (2,000 customers: a few calls, a handful of lost sales)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from parcours.report.numbers import units
from parcours.report.numbers.kpis import KPIS
from parcours.vocabulary import EventType, Outcome
from tests.support import run_main, simulate

SHARES = {k.key for k in KPIS if k.unit == "%"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("single")
    simulate(root / "multi", "multichannel", customers=2000, seed=3)
    simulate(root / "omni", "omnichannel", customers=2000, seed=4)
    simulate(root / "big", "omnichannel", customers=20000, seed=4)  # ten times the sessions
    shutil.copytree(root / "multi", root / "again")  # the same run twice: every difference is 0
    return {p.name: p for p in root.iterdir()}


def _compare(paths: list[Path | str], capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code, out, err = run_main(["compare", *map(str, paths), *extra], capsys)
    assert code == 0, err
    return code, out


def _json(paths: list[Path | str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return dict(json.loads(_compare(paths, capsys, "--format", "json")[1]))


def _count(path: Path, part: str, column: str, values: list[str]) -> int:
    table = ds.dataset(path / part, format="parquet").to_table(columns=[column])
    return int(
        pc.sum(pc.is_in(pc.cast(table[column], "string"), value_set=pa.array(values, pa.string()))).as_py()
        or 0
    )


def test_each_figure_of_a_single_run_says_the_n_its_parquet_holds(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _json([runs["multi"], runs["omni"]], capsys)
    for side, path in zip(doc["sides"], (runs["multi"], runs["omni"]), strict=True):
        kpis = side["kpis"]
        calls = [EventType.CALL_ANSWERED.value, EventType.CALL_ABANDONED.value]
        assert kpis["call_abandonment"]["n"] == _count(path, "events", "event_type", calls)
        assert kpis["mean_wait_s"]["n"] == kpis["call_abandonment"]["n"]
        assert kpis["basket_eur"]["n"] == _count(path, "events", "event_type", [EventType.PURCHASE.value])
        lost = _count(path, "journeys", "outcome", [Outcome.LOST_TO_STOCKOUT.value])
        assert kpis["lost_sales_per_day"]["n"] == lost
        others = [o.value for o in Outcome if o != Outcome.SERVICE]
        assert kpis["journey_conversion"]["n"] == _count(path, "journeys", "outcome", others)
        for key, figure in kpis.items():
            assert figure["unit"] and figure["n"] >= 0, key
            if figure["ci_low"] is None:
                continue
            assert figure["ci_low"] <= figure["mean"] <= figure["ci_high"], key
            assert figure["ci_low"] >= 0 and (key not in SHARES or figure["ci_high"] <= 1), key


def _check_differences(doc: dict[str, Any]) -> dict[str, Any]:
    (diff,) = doc["differences"]
    assert diff["over"] == "units" and diff["paired"] is False
    for key, d in diff["kpis"].items():
        assert d["n_base"] >= 0 and d["n"] >= 0 and d["unit"] and d["method"], key
        if d["mean"] is None:
            continue
        if d["ci_low"] is None:
            assert d["undecided"], key  # no interval: too few units to tell
            continue
        assert d["ci_low"] <= d["mean"] <= d["ci_high"], key
        assert d["undecided"] == d["holds_zero"] == (d["ci_low"] <= 0 <= d["ci_high"]), key
        if key in SHARES:
            assert d["ci_low"] >= -1 and d["ci_high"] <= 1, key
    return dict(diff["kpis"])


def test_a_run_against_itself_is_told_apart_from_zero_nowhere(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kpis = _check_differences(_json([runs["multi"], runs["again"]], capsys))
    shown = {k: d for k, d in kpis.items() if d["mean"] is not None}
    assert len(shown) >= len(KPIS) - 1
    assert all(d["mean"] == 0 and d["undecided"] for d in shown.values())
    out = tmp_path / "same.html"
    _compare([runs["multi"], runs["again"], "-o", str(out)], capsys)
    page = out.read_text()
    assert page.count('class="holds-zero"') == len(shown)
    assert "n = " in page and " of n = " in page  # each figure's n, a share's k of n


def test_small_runs_mark_what_they_cannot_tell_and_a_tenfold_difference_is_told(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    small = _check_differences(_json([runs["multi"], runs["omni"]], capsys))
    # a day of 2,000 customers holds a handful of calls and lost sales: no difference of those can show
    assert small["call_abandonment"]["undecided"] and small["lost_sales_per_day"]["undecided"]
    out = tmp_path / "small.html"
    _compare([runs["multi"], runs["omni"], "-o", str(out)], capsys)
    (calls,) = [li for li in out.read_text().split("<li>") if li.startswith("Calls given up")]
    n = small["call_abandonment"]
    assert f" of {n['n_base']})" in calls and f" of {n['n']})" in calls  # the facts say their n too
    assert "~ not told apart from zero" in calls
    big = _check_differences(_json([runs["omni"], runs["big"]], capsys))
    sessions = big["sessions_per_day"]
    assert sessions["n"] > 5 * sessions["n_base"] and not sessions["undecided"] and sessions["ci_low"] > 0
    out = tmp_path / "big.html"
    _compare([runs["omni"], runs["big"], "-o", str(out)], capsys)
    page = out.read_text()
    marked = [k for k, d in big.items() if d["mean"] is not None and d["undecided"]]
    assert page.count('class="holds-zero"') == len(marked)  # the page marks what the JSON says


@pytest.mark.parametrize(
    ("a", "n1", "b", "n2", "low", "high"),
    [(56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090), (5, 56, 0, 29, -0.0381, 0.1926)],
)
def test_two_shares_take_newcombes_interval(
    a: int, n1: int, b: int, n2: int, low: float, high: float
) -> None:
    """The worked examples of Newcombe (1998), Statistics in Medicine 17:873-890, method 10."""
    e = units.difference(units.share(b, n2, "units"), units.share(a, n1, "units"))
    assert (round(e.ci_low, 4), round(e.ci_high, 4)) == (low, high)


@pytest.mark.parametrize("k", [0, 1, 3, 12, 400])
def test_a_count_takes_the_poisson_score_interval(k: int) -> None:
    """Its ends are the means a count of k is exactly z standard errors from: (k - m)^2 = z^2 m."""
    z = 1.959963984540054
    low, high = units.poisson_score(k)
    assert (k - high) ** 2 == pytest.approx(z * z * high)
    assert low == 0 if k == 0 else (k - low) ** 2 == pytest.approx(z * z * low)
    assert low <= k <= high and not math.isnan(high)
