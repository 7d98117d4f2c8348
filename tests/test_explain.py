"""``parcours explain``: Shapley arithmetic, and real runs that split (or do not split) a difference."""

from __future__ import annotations

import json
import math
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parcours.output.reader import Run
from parcours.report.numbers.intervals import mean_interval
from parcours.scenarios import get_scenario, load_scenario
from parcours.strategy.explain import FIGURES, explain
from parcours.strategy.factors import factors, to_toml
from parcours.strategy.shapley import Coalitions, alone, plan, shapley
from tests.support import run_main

ROOT = Path(__file__).resolve().parent.parent

CUSTOMERS = 800


def _game(k: int, effects: np.ndarray, pair: tuple[int, int], bonus: float, noise: np.ndarray) -> dict:
    """v(S) = sum of the effects in S, + bonus when both of ``pair`` are in S, + per-coalition noise."""
    return {
        m: sum(effects[i] for i in range(k) if m >> i & 1)
        + (bonus if (m >> pair[0] & 1 and m >> pair[1] & 1) else 0.0)
        + noise[m]
        for m in range(1 << k)
    }


def test_exact_shapley_shares_a_pair_bonus_equally_and_adds_up() -> None:
    effects = np.array([[1.0], [2.0], [0.0], [-0.5]])
    v = _game(4, effects, (0, 1), 0.6, np.zeros((16, 1)))
    p = Coalitions(4)
    phi = shapley(p, v)
    assert phi[:, 0] == pytest.approx([1.3, 2.3, 0.0, -0.5])
    assert phi.sum(axis=0) == pytest.approx(v[15] - v[0])
    assert alone(p, v)[:, 0] == pytest.approx([1.0, 2.0, 0.0, -0.5])


def test_sampled_permutations_add_up_and_approach_the_exact_values() -> None:
    effects = np.array([[1.0], [2.0], [0.0], [-0.5], [0.3], [0.1], [0.0], [0.7]])
    v = _game(8, effects, (0, 1), 0.6, np.zeros((256, 1)))
    p = plan(8, exact_up_to=6, permutations=40, seed=3)
    assert not p.exact and len(p.permutations) == 40
    assert len(p.coalitions()) < 256
    phi = shapley(p, v)
    assert phi.sum(axis=0) == pytest.approx(v[255] - v[0])
    assert phi[2:, 0] == pytest.approx(effects[2:, 0])  # no interaction: exact in every order
    assert phi[0, 0] + phi[1, 0] == pytest.approx(3.6)  # the bonus stays with the pair that makes it
    assert plan(4, exact_up_to=6, permutations=40, seed=3).exact


def test_a_capability_with_no_effect_gets_a_contribution_whose_interval_holds_zero() -> None:
    rng = np.random.default_rng(11)
    replicates = 5
    effects = np.array([[0.0], [0.04]])  # the first does nothing, the second does
    per_rep = []
    for _ in range(replicates):
        shared = rng.normal(0.3, 0.02)  # what the replicate's seed does to every combination alike
        per_rep.append(_game(2, effects, (0, 1), 0.0, shared + rng.normal(0, 0.002, (4, 1))))
    v = {m: np.stack([r[m] for r in per_rep]) for m in range(4)}
    phi = shapley(Coalitions(2), v)
    idle, busy = mean_interval(phi[0, :, 0]), mean_interval(phi[1, :, 0])
    assert idle.ci_low <= 0 <= idle.ci_high and abs(idle.mean) < 0.005
    assert busy.ci_low > 0.03 and busy.ci_high < 0.05


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """crosschannel under another name: the same scenario in every setting that acts."""
    path = tmp_path_factory.mktemp("scenarios") / "twin.toml"
    path.write_text(to_toml(get_scenario("crosschannel").model_copy(update={"name": "twin"})))
    return path


def test_two_identical_scenarios_explain_nothing(twin: Path) -> None:
    x = explain("crosschannel", str(twin), customers=CUSTOMERS, replicates=2, seed=4)
    assert x.factors == [] and x.other == []
    est = x.estimates()
    for n in range(len(FIGURES)):
        for e in (est.total[n], est.interaction[n]):
            if not math.isnan(e.mean):
                assert e.mean == 0.0 and e.holds_zero()
    assert len(x.seeds) == 2 and not np.array_equal(x.values[0][0], x.values[0][1])


def one_capability_apart(tmp_path: Path) -> tuple[str, Path]:
    """FROM and a TO that differs from it in exactly one capability (the level, while the spec has no
    capability switches)."""
    base = get_scenario("multichannel")
    caps = getattr(base, "capabilities", None)
    if caps is None:
        to = base.model_copy(
            update={"name": "one_apart", "integration": get_scenario("crosschannel").integration}
        )
    else:
        target = get_scenario("omnichannel").capabilities  # type: ignore[attr-defined]
        name = next(n for n in type(caps).model_fields if getattr(caps, n) != getattr(target, n))
        changed = caps.model_copy(update={name: getattr(target, name)})
        to = base.model_copy(update={"name": "one_apart", "capabilities": changed})
    path = tmp_path / "one_apart.toml"
    path.write_text(to_toml(to))
    assert len(factors(base, load_scenario(path))) == 1
    return "multichannel", path


def test_one_capability_apart_carries_the_whole_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frm, to = one_capability_apart(tmp_path)
    args = ["explain", frm, str(to), "-n", str(CUSTOMERS), "-r", "3", "--seed", "4", "--format", "json"]
    code, out, err = run_main([*args, "-w", "2", "--no-progress"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["method"] == "exact Shapley" and doc["runs"] == 2 * 3 and len(doc["seeds"]) == 3
    (capability,) = doc["capabilities"]
    moved = 0
    for fig in doc["figures"].values():
        (c,) = fig["contributions"]
        assert c["capability"] == capability["capability"]
        total = fig["total"]
        if total["mean"] is None:
            continue
        assert c["mean"] == pytest.approx(total["mean"], abs=1e-9)
        assert c["ci_low"] == pytest.approx(total["ci_low"], abs=1e-9)
        assert c["mean"] + fig["interaction"]["mean"] == pytest.approx(total["mean"], abs=1e-9)
        assert fig["interaction"]["mean"] == 0.0
        assert fig["from"]["mean"] + total["mean"] == pytest.approx(
            fig["to"]["mean"], abs=2e-6
        )  # JSON: 6 decimals
        moved += total["ci_low"] is not None and not (total["ci_low"] <= 0 <= total["ci_high"])
    assert moved >= 1, "the capability changed nothing measurable: the test would prove nothing"
    assert set(doc["figures"]) == {f.key for f in FIGURES}
    # docs/model.md's gain table is made from such files by docs/gain_table.py
    (tmp_path / "x.json").write_text(out)
    made = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gain_table.py"), str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    revenue = doc["figures"]["revenue_eur_per_day"]
    assert made[0] == f"| capability | one_apart - {frm} |"
    assert made[2].startswith(f"| revenue of {frm} (EUR a day) | {revenue['from']['mean']:,.0f} [")
    whole, signed = made[3], runpy.run_path(str(ROOT / "docs" / "gain_table.py"))["signed"]
    assert whole.startswith(f"| whole difference | {signed(revenue['total']['mean'])} [")
    assert ("(holds 0)" in whole) == (revenue["total"]["ci_low"] < 0 < revenue["total"]["ci_high"])
    assert made[4].startswith(f"| `{capability['capability']}` | ")
    assert made[-1].startswith(f"n = 3 replicates of {CUSTOMERS:,} customers each, root seed 4")


def test_explain_writes_a_page_and_refuses_bad_input(
    twin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "explain.html"
    code, _, err = run_main(
        ["explain", "crosschannel", str(twin), "-n", "300", "-r", "2", "-o", str(out)], capsys
    )
    assert code == 0, err
    page = out.read_text()
    assert page.count("<img") == len(FIGURES) and "nothing to split" in page
    json_out = tmp_path / "explain.json"
    for target in (out, json_out, json_out):  # its own page and JSON are replaced, never a user's file
        fmt = "json" if target.suffix == ".json" else "html"
        code, _, err = run_main(
            [
                "explain",
                "crosschannel",
                str(twin),
                "-n",
                "300",
                "-r",
                "2",
                "--format",
                fmt,
                "-o",
                str(target),
            ],
            capsys,
        )
        assert code == 0, err
    mine = tmp_path / "mine.html"
    mine.write_text("<html>my notes</html>")
    code, _, err = run_main(["explain", "crosschannel", str(twin), "-n", "300", "-o", str(mine)], capsys)
    assert code == 2 and "not a file parcours wrote" in err and mine.read_text() == "<html>my notes</html>"
    kept = tmp_path / "kept"
    args = ["explain", "multichannel", "crosschannel", "-n", "300", "-r", "2", "--keep-runs", str(kept)]
    code, _, err = run_main([*args, "-o", str(tmp_path / "x.html")], capsys)
    assert code == 0, err
    code, out_json, err = run_main(
        ["compare", str(kept / "c0000"), str(kept / "c0001"), "--format", "json"], capsys
    )
    assert code == 0, err
    assert json.loads(out_json)["differences"][0]["paired"] is True  # kept combinations are run sets
    kept_run = Run(kept / "c0001" / "rep-001")  # whole, its customers part included
    assert kept_run.customers(["customer_id"]).num_rows == kept_run.manifest.counts.customers_listed > 0
    for args, names in (
        (["nosuch", "omnichannel"], "FROM: nosuch"),
        (["omnichannel", "nosuch"], "TO: nosuch"),
        (["omnichannel", "multichannel", "--replicates=0"], "--replicates"),
        (["omnichannel", "multichannel", "--customers=0"], "--customers"),
        (["omnichannel", "multichannel", "-o", str(tmp_path / "no" / "x.html")], "no such directory"),
    ):
        code, _, err = run_main(["explain", *args], capsys)
        assert code == 2 and names in err and err.count("\n") == 1, err


def test_factors_are_capability_switches_when_the_spec_has_them() -> None:
    """The spec's `[capabilities]` as explain reads it: each differing switch is a factor, and a
    combination switches exactly its factors, leaving the level alone."""
    from parcours.scenarios import Scenario
    from parcours.strategy.factors import combine, other_differences

    base = get_scenario("multichannel").model_dump()
    caps = base["capabilities"]
    frm = Scenario.model_validate({**base, "capabilities": {**caps, "click_collect": True}})
    to = Scenario.model_validate(
        {**base, "capabilities": {**caps, "identity": "shared", "stock_visible": "live"}}
    )
    found = factors(frm, to)
    assert {(f.name, str(f.from_value), str(f.to_value)) for f in found} == {
        ("identity", "silos", "shared"),
        ("click_collect", "True", "False"),
        ("stock_visible", "none", "live"),
    }
    by_name = {f.name: f for f in found}
    mixed = combine(frm, [by_name["identity"], by_name["stock_visible"]], "mixed")
    got = mixed.capabilities
    assert (str(got.identity), got.click_collect, str(got.stock_visible)) == ("shared", True, "live")
    assert got.cart_follows == frm.capabilities.cart_follows  # what no factor names is left alone
    assert mixed.integration == frm.integration and mixed.name == "mixed"
    assert other_differences(frm, to) == []
