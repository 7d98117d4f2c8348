"""``report`` and ``compare`` on run sets: means with 95% intervals, paired differences, noise marked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from parcours.report.numbers.intervals import mean_interval, t975
from parcours.report.numbers.kpis import KPIS
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.replicates import simulate_runset
from tests.support import run_main, simulate

CUSTOMERS = 1500


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sets")
    for name in ("multichannel", "omnichannel"):
        simulate_runset(name, Overrides(customers=CUSTOMERS, seed=5), root / name, 3)
    simulate(root / "single", "omnichannel", customers=CUSTOMERS, seed=99)
    return {"multi": root / "multichannel", "omni": root / "omnichannel", "single": root / "single"}


def _bounded(values: np.ndarray, share: bool) -> tuple[float, float]:
    """The 95% interval of a mean of 3 replicates inside its range, computed here: Student's t on the
    logit (share) or log scale, taken back; the plain t-interval cut at the bound when one sits on it."""
    t = 4.303  # t(0.975, 2 df)
    inside = (values > 0) & (values < 1) if share else values > 0
    if inside.all():
        x = np.log(values / (1 - values)) if share else np.log(values)
        half = t * x.std(ddof=1) / math.sqrt(3)
        back = (lambda v: 1 / (1 + math.exp(-v))) if share else math.exp
        low, high = back(x.mean() - half), back(x.mean() + half)
        return min(low, values.mean()), max(high, values.mean())
    half = t * values.std(ddof=1) / math.sqrt(3)
    return max(values.mean() - half, 0.0), min(values.mean() + half, 1.0) if share else values.mean() + half


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    code, out, err = run_main([*args, "--format", "json", "-o", "-"], capsys)
    assert code == 0, err
    return json.loads(out)


def _replicate_kpis(path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, float | None]]:
    """Each replicate's figures as `parcours report` gives them for that run alone."""
    return [_json(["report", str(path / f"rep-{i:03d}")], capsys)["runs"][0]["kpis"] for i in range(3)]


def test_compare_intervals_hold_their_means_and_pair_the_replicates(
    sets: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _json(["compare", str(sets["multi"]), str(sets["omni"])], capsys)
    multi, omni = (_replicate_kpis(sets[k], capsys) for k in ("multi", "omni"))
    assert [s["replicates"] for s in doc["sides"]] == [3, 3]
    assert doc["sides"][0]["seeds"] == doc["sides"][1]["seeds"]
    (diff,) = doc["differences"]
    assert diff["paired"] is True
    checked = 0
    for k in KPIS:
        for side, reps in zip(doc["sides"], (multi, omni), strict=True):
            e = side["kpis"][k.key]
            values = np.array([r[k.key] for r in reps], dtype=float)
            if np.isnan(values).any() or e["mean"] is None:
                continue
            assert e["mean"] == pytest.approx(values.mean(), rel=1e-6, abs=1e-6)
            assert e["ci_low"] <= e["mean"] <= e["ci_high"]
            assert e["ci_low"] >= 0 and (k.unit != "%" or e["ci_high"] <= 1)  # inside the figure's range
            low, high = _bounded(values, share=k.unit == "%")
            assert (e["ci_low"], e["ci_high"]) == pytest.approx((low, high), rel=1e-3, abs=1e-5)
            checked += 1
        d = diff["kpis"][k.key]
        paired = np.array([o[k.key] - m[k.key] for m, o in zip(multi, omni, strict=True)], dtype=float)
        if d["mean"] is None or np.isnan(paired).any():
            continue
        assert d["mean"] == pytest.approx(paired.mean(), rel=1e-6, abs=1e-6)
        assert d["ci_low"] <= d["mean"] <= d["ci_high"]
        half = 4.303 * paired.std(ddof=1) / math.sqrt(3)
        assert d["ci_high"] - d["mean"] == pytest.approx(half, rel=1e-3, abs=1e-5)
        assert d["holds_zero"] == (d["ci_low"] <= 0 <= d["ci_high"])
    assert checked >= 2 * (len(KPIS) - 2)


def test_a_run_set_against_a_single_run_is_unpaired_and_without_a_difference_interval(
    sets: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _json(["compare", str(sets["multi"]), str(sets["single"])], capsys)
    assert [s["kind"] for s in doc["sides"]] == ["runset", "run"]
    single = doc["sides"][1]["kpis"][KPIS[0].key]
    assert single["mean"] == doc["runs"][1]["kpis"][KPIS[0].key]
    assert "replicates" not in single and single["n"] > 0  # its interval is over its units, named
    assert doc["sides"][0]["kpis"][KPIS[0].key]["replicates"] == 3
    (diff,) = doc["differences"]
    assert diff["paired"] is False
    assert all(d["ci_low"] is None for d in diff["kpis"].values())


def test_pages_mark_differences_whose_interval_holds_zero(
    sets: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare.html"
    code, _, err = run_main(["compare", str(sets["multi"]), str(sets["omni"]), "-o", str(out)], capsys)
    assert code == 0, err
    page = out.read_text()
    doc = _json(["compare", str(sets["multi"]), str(sets["omni"])], capsys)
    noise = [k for k, d in doc["differences"][0]["kpis"].items() if d["holds_zero"]]
    assert page.count('class="holds-zero"') == len(noise)
    assert "mean of 3" in page and "paired replicate by replicate" in page
    assert 'id="integration"' in page and 'id="glossary"' in page and "Store-visit conversion" in page
    code, _, err = run_main(["report", str(sets["omni"]), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 0, err
    assert "mean of 3" in (tmp_path / "r.html").read_text()


def test_interval_arithmetic() -> None:
    assert t975(2) == 4.303 and t975(1000) == pytest.approx(1.962, abs=1e-3)
    assert t975(30.5) == pytest.approx(2.04, abs=0.01)
    e = mean_interval([1.0, 2.0, 3.0])
    assert (e.mean, e.ci_low, e.ci_high) == pytest.approx((2.0, 2.0 - 2.484, 2.0 + 2.484), abs=1e-3)
    assert not mean_interval([5.0]).has_interval
    assert mean_interval([math.nan, 1.0, 3.0]).mean == 2.0
