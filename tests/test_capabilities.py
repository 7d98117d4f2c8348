"""Capabilities as switches: one capability changed from its level's preset changes the run only where
that capability acts, in the expected direction, whether set in a scenario file or in a copy of the
Scenario (as ``parcours explain`` builds its combinations).

The runs use the thin-stock variant of tests/test_strategies.py, so that stock-outs are frequent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.cli.describe import describe_scenario
from parcours.output.reader import Run
from parcours.scenarios import Scenario, load_scenario
from parcours.scenarios.capabilities import PRESETS, Capabilities
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.simulate import simulate_run
from parcours.vocabulary import IntegrationLevel
from tests.test_strategies import _variant, count

OVERRIDES = Overrides(customers=60000, seed=21, days=2)
COLUMNS = ["ts", "visible_id", "channel", "event_type", "session_id", "journey_id", "product_id"]
COLUMNS += ["amount_cents"]


def _with(scenario: Scenario, **switches: object) -> Scenario:
    """The explain engineer's way of building a combination."""
    return scenario.model_copy(update={"capabilities": scenario.capabilities.model_copy(update=switches)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("capabilities")
    cross = _variant(tmp, "crosschannel")
    live = tmp / "cross_live.toml"  # "crosschannel, plus live stock", as a user writes it
    live.write_text(cross.read_text() + '\n[capabilities]\nstock_visible = "live"\n')
    omni = load_scenario(_variant(tmp, "omnichannel"))
    scenarios: dict[str, str | Scenario] = {
        "cross": str(cross),
        "cross_live": str(live),
        "omni": omni,
        "omni_returns_by_post": _with(omni, returns_anywhere=False),
    }
    out = {}
    for name, scenario in scenarios.items():
        simulate_run(scenario, OVERRIDES, tmp / name)
        out[name] = Run(tmp / name)
    return out


def _store_journeys(run: Run) -> set[int]:
    """Journeys that reach a store: a visit or kiosk, or an order a store prepares (its preparers are
    shared with the journeys stock sends there, so its 'ready' time may move with them)."""
    t = run.events(["journey_id", "channel", "event_type"])
    at_store = pc.is_in(t.column("channel").cast(pa.string()), pa.array(["store", "kiosk"]))
    prepared = pc.equal(t.column("event_type").cast(pa.string()), "order_ready")
    return set(pc.unique(pc.filter(t.column("journey_id"), pc.or_(at_store, prepared))).to_pylist())


def _events_outside(run: Run, journeys: set[int]) -> pa.Table:
    t = run.events(COLUMNS)
    ids = pa.array(sorted(journeys), t.column("journey_id").type)
    t = t.filter(pc.invert(pc.is_in(t.column("journey_id"), ids)))
    return t.sort_by([("journey_id", "ascending"), ("ts", "ascending"), ("session_id", "ascending")])


def test_live_stock_changes_only_journeys_that_reach_a_store(runs: dict[str, Run]) -> None:
    daily, live = runs["cross"], runs["cross_live"]
    assert live.customers().equals(daily.customers())
    assert set(pc.unique(live.journeys(["journey_id"]).column(0)).to_pylist()) == set(
        pc.unique(daily.journeys(["journey_id"]).column(0)).to_pylist()
    )
    touched = _store_journeys(daily) | _store_journeys(live)
    outside = _events_outside(daily, touched)
    assert outside.num_rows > 10000
    assert outside.equals(_events_outside(live, touched))
    # where it acts: customers who look before going see the live count, and fewer meet an empty shelf
    assert count(live, "stock_out") < count(daily, "stock_out")
    assert not _events_outside(daily, set()).equals(_events_outside(live, set()))


def test_a_run_says_which_capabilities_it_ran(runs: dict[str, Run]) -> None:
    for name, stock, returns in (("cross_live", "live", True), ("omni_returns_by_post", "live", False)):
        scenario = json.loads((runs[name].path / "run.json").read_text())["scenario"]
        caps = Capabilities.model_validate(scenario["capabilities"])
        assert (caps.stock_visible, caps.returns_anywhere) == (stock, returns), name
        # the manifest's scenario reads back as what ran, not as its level's preset
        assert Scenario.model_validate(scenario).capabilities == caps


def _online_orders_returned_in_store(run: Run) -> int:
    t = run.events(["journey_id", "channel", "event_type"])
    kind, channel = t.column("event_type").cast(pa.string()), t.column("channel").cast(pa.string())
    in_store = pc.is_in(channel, pa.array(["store", "kiosk"]))
    bought = pc.equal(kind, "purchase")
    # journeys whose every purchase was online (a pickup may add a purchase in store, returned there)
    in_store_buys = pc.filter(t.column("journey_id"), pc.and_(bought, in_store))
    only_online = pc.and_(
        pc.and_(bought, pc.invert(in_store)), pc.invert(pc.is_in(t.column("journey_id"), in_store_buys))
    )
    online = pc.unique(pc.filter(t.column("journey_id"), only_online))
    back = pc.and_(pc.is_in(kind, pa.array(["return", "exchange"])), pc.equal(channel, "store"))
    back = pc.and_(back, pc.is_in(t.column("journey_id"), online))
    return int(pc.sum(back).as_py() or 0)


def test_a_copied_scenario_without_returns_anywhere_sends_online_orders_back_by_post(
    runs: dict[str, Run],
) -> None:
    omni, by_post = runs["omni"], runs["omni_returns_by_post"]
    assert _online_orders_returned_in_store(omni) > 0
    assert _online_orders_returned_in_store(by_post) == 0
    assert by_post.customers().equals(omni.customers())
    assert count(by_post, "purchase") == count(omni, "purchase")


def test_presets_are_the_levels_and_a_table_overrides_single_switches(tmp_path: Path) -> None:
    cross = _variant(tmp_path, "crosschannel")
    plain = load_scenario(cross)
    assert plain.capabilities == PRESETS[IntegrationLevel.CROSSCHANNEL]
    spelled = tmp_path / "spelled.toml"
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in plain.capabilities.model_dump().items())
    spelled.write_text(cross.read_text() + "\n[capabilities]\n" + table)
    assert load_scenario(spelled) == plain
    held = tmp_path / "held.toml"
    held.write_text(cross.read_text() + "\n[capabilities]\nhold_other_store = true\n")
    expected = PRESETS[IntegrationLevel.CROSSCHANNEL].model_copy(update={"hold_other_store": True})
    assert load_scenario(held).capabilities == expected


def test_the_simulator_reads_capabilities_not_the_level() -> None:
    simulator = Path(__file__).parent.parent / "parcours" / "simulator"
    readers = [
        f"{p.name}:{i}"
        for p in sorted(simulator.rglob("*.py"))
        if p.name != "describe.py"  # names the level for the user
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"IntegrationLevel|\.integration\b", line)
    ]
    assert readers == []


def test_scenarios_show_lists_the_capabilities_in_force_and_marks_overrides(tmp_path: Path) -> None:
    path = tmp_path / "cross_live.toml"
    text = _variant(tmp_path, "crosschannel").read_text()
    path.write_text(text + '\n[capabilities]\nstock_visible = "live"\n')
    lines = describe_scenario(str(path)).splitlines()
    shown = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("    ")}
    assert set(shown) == set(Capabilities.model_fields)
    assert shown["stock_visible"] == ["live", "*"]
    assert shown["hold_other_store"] == ["no"]
    assert shown["identity"] == ["shared"]
