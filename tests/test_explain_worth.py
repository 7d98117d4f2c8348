"""``parcours explain``: what a size can tell, what a capability is worth a year, over several days."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from parcours.output.economics import ASSUMPTIONS, terms
from parcours.scenarios import get_scenario
from parcours.scenarios.economics import Economics
from parcours.strategy.explain import FIGURES, MARGIN, Explanation
from parcours.strategy.factors import Factor
from parcours.strategy.page import document, to_html
from parcours.strategy.shapley import Coalitions
from tests.support import run_main
from tests.test_explain import one_capability_apart


def _within(e: dict[str, float | None], unit: str) -> bool:
    low, high = e["ci_low"], e["ci_high"]
    if low is None or high is None:
        return True
    return low >= 0 and (unit != "%" or high <= 1)


def test_explain_over_days_gives_detectable_measurable_and_yearly_margin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frm, to = one_capability_apart(tmp_path)
    args = ["explain", frm, str(to), "-n", "600", "-r", "3", "--days", "2", "--start", "2026-11-27"]
    code, out, err = run_main([*args, "--seed", "5", "--format", "json", "--no-progress"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["days"] == 2 and doc["start"] == "2026-11-27"
    assert set(doc["economics"]["assumptions"]) == set(ASSUMPTIONS)  # the built-ins give none
    days_per_year = doc["economics"]["days_per_year"]
    margin_per_day = doc["figures"]["margin_eur_per_day"]["contributions"][0]
    for key, fig in doc["figures"].items():
        unit = fig["unit"]
        assert fig["detectable"] is None or fig["detectable"] >= 0
        if key != "margin_eur_per_day":  # a margin may be negative; every other figure may not
            assert _within(fig["from"], unit) and _within(fig["to"], unit), key
        (c,) = fig["contributions"]
        assert isinstance(c["measurable"], bool)
        interval_holds_zero = c["ci_low"] is not None and c["ci_low"] <= 0 <= c["ci_high"]
        assert c["measurable"] is (c["ci_low"] is not None and not interval_holds_zero)
        yearly = c["margin_eur_per_year"]
        assert set(yearly) == {"mean", "ci_low", "ci_high"}
        assert yearly["mean"] == pytest.approx(margin_per_day["mean"] * days_per_year, rel=1e-5, abs=1e-3)
        assert yearly["ci_low"] <= yearly["mean"] <= yearly["ci_high"]
    (capability,) = doc["capabilities"]
    measured = [f["contributions"][0]["measurable"] for f in doc["figures"].values()]
    assert capability["measurable"] is any(measured)


def test_explain_refuses_one_replicate_and_warns_under_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["explain", "multichannel", "omnichannel", "--replicates", "1"], capsys)
    assert code == 2 and "--replicates" in err and err.count("\n") == 1 and out == ""
    code, _, err = run_main(["explain", "multichannel", "omnichannel", "--days", "0"], capsys)
    assert code == 2 and "--days" in err and err.count("\n") == 1
    code, _, err = run_main(["explain", "multichannel", "omnichannel", "--start", "soon"], capsys)
    assert code == 2 and "--start" in err and err.count("\n") == 1


def _explanation(k: int, phi: np.ndarray, customers: int = 2000) -> Explanation:
    """An explanation whose coalition values add each factor's per-replicate effect (no interaction)."""
    replicates = phi.shape[1]
    rng = np.random.default_rng(3)
    base = np.abs(rng.normal(0.3, 0.01, (replicates, len(FIGURES)))) * 1000
    values = {
        mask: base + sum((phi[i] for i in range(k) if mask >> i & 1), np.zeros_like(base))
        for mask in range(1 << k)
    }
    factors = [Factor(f"cap{i}", False, True) for i in range(k)]
    return Explanation(
        "a", "b", factors, [], Coalitions(k), customers, 1, list(range(replicates)), values, 1.0
    )


def test_a_capability_that_never_acted_is_not_measurable_and_the_page_says_what_would() -> None:
    replicates = 3
    idle = np.zeros((replicates, len(FIGURES)))
    noisy = np.tile(np.array([[0.5], [-0.3], [0.4]]), (1, len(FIGURES)))  # small and noisy
    strong = np.tile(np.array([[50.0], [52.0], [51.0]]), (1, len(FIGURES)))
    x = _explanation(3, np.stack([idle, noisy, strong]))
    doc = document(x)
    caps = {c["capability"]: c for c in doc["capabilities"]}
    assert not caps["cap0"]["measurable"] and not caps["cap1"]["measurable"] and caps["cap2"]["measurable"]
    c0 = doc["figures"]["revenue_eur_per_day"]["contributions"][0]
    assert c0["never_acted"] and c0["customers_to_measure"] is None
    c1 = doc["figures"]["revenue_eur_per_day"]["contributions"][1]
    assert c1["customers_to_measure"] > 2000  # a larger run would tell an effect of this size
    assert doc["figures"]["revenue_eur_per_day"]["detectable"] > 0
    assert any("too small to measure" in w and "cap0" in w for w in doc["warnings"])
    page = to_html(x)
    assert f"{c1['customers_to_measure']:,} customers" in page
    assert "never acted" in page and "try 20,000 customers" in page  # ten times the size, for a start
    assert "What each capability is worth a year" in page


def test_two_replicates_are_warned_about() -> None:
    x = _explanation(1, np.ones((1, 2, len(FIGURES))))
    assert any("only 2 replicates" in w for w in document(x)["warnings"])
    assert "Read with care" in to_html(x)


def test_economics_defaults_are_labelled_and_a_scenario_can_give_its_own() -> None:
    built_in = terms(get_scenario("omnichannel").economics.model_dump())
    assert set(built_in.assumed) == set(ASSUMPTIONS) and built_in.gross_margin_rate == 0.35
    own = terms(Economics(gross_margin_rate=0.5, remarks="our 2025 accounts").model_dump())
    assert own.gross_margin_rate == 0.5 and "gross_margin_rate" not in own.assumed
    assert "cost_per_return_eur" in own.assumed
    assert len(FIGURES) - 1 == MARGIN and not math.isnan(own.days_per_year)
