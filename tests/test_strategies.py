"""What strategists compare: the integration levels and the built-in experiments, measured from the
ground truth. Each comparison runs the same population, day and seed; only the strategy differs.

The level runs use a variant of the built-in scenarios with thinner stock and fewer staff, so that
stock-outs are frequent enough on a run small enough for CI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours import scenarios
from parcours.output.reader import Run
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.simulate import simulate_run
from tests.support import local, sessions

LEVELS = ("multichannel", "crosschannel", "omnichannel")
SCENARIO_DIR = Path(scenarios.__file__).parent
INTENTS = ["bought", "abandoned", "lost_to_stockout", "returned"]


def _variant(tmp: Path, name: str) -> Path:
    text = (SCENARIO_DIR / f"{name}.toml").read_text()
    for old, new in (
        ("assist_target_within_s = 60", "assist_target_within_s = 600"),
        ("shelf_minimum_units = 3", "shelf_minimum_units = 1"),
        # a few customers of a file visit on a day: larger stores, so that staff are busy
        ("customers_per_store = 2000", "customers_per_store = 20000"),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def _run(tmp: Path, scenario: str | Path, customers: int, name: str) -> Run:
    out = tmp / name
    simulate_run(str(scenario), Overrides(customers=customers, seed=21), out)
    return Run(out)


@pytest.fixture(scope="module")
def levels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("levels")
    return {name: _run(tmp, _variant(tmp, name), 100000, name) for name in (*LEVELS, "kiosk_pilot")}


def _outcomes(run: Run) -> np.ndarray:
    return np.array(run.journeys().column("outcome").cast(pa.string()).to_pylist())


def conversion(run: Run) -> float:
    out = _outcomes(run)
    return float(np.isin(out, ["bought", "returned"]).sum() / np.isin(out, INTENTS).sum())


def lost_to_stockouts(run: Run) -> int:
    return int((_outcomes(run) == "lost_to_stockout").sum())


MESSAGES = ["message_sent", "message_opened", "message_clicked"]


def ids_per_person(run: Run, who: str) -> float:
    """Distinct visible ids per customer, among the customers who came to two or more channels
    (``who="several_channels"``) or who logged in (``who="logged_in"``). A campaign message shows one
    id and a customer met on one channel shows at most two at any level: only customers who cross
    channels, and identify, can show what the level changes."""
    t = run.events(["customer_id", "visible_id", "channel", "event_type"])
    kinds = t.column("event_type").cast(pa.string())
    if who == "logged_in":
        chosen = pc.unique(t.filter(pc.equal(kinds, "login")).column("customer_id"))
    else:
        came = t.filter(pc.invert(pc.is_in(kinds, pa.array(MESSAGES))))
        per = came.group_by("customer_id").aggregate([("channel", "count_distinct")])
        chosen = per.filter(pc.greater_equal(per.column("channel_count_distinct"), 2)).column("customer_id")
    mine = t.filter(pc.is_in(t.column("customer_id"), chosen))
    pairs = mine.group_by(["customer_id", "visible_id"]).aggregate([])
    assert len(chosen) > 500
    return pairs.num_rows / len(chosen)


def count(run: Run, event_type: str) -> int:
    return int(
        pc.sum(
            pc.equal(run.events(["event_type"]).column("event_type").cast(pa.string()), event_type)
        ).as_py()
    )


def test_conversion_rises_with_integration(levels: dict[str, Run]) -> None:
    multi, cross, omni = (conversion(levels[n]) for n in LEVELS)
    assert cross > multi + 0.01
    assert omni >= cross


def test_fewer_sales_lost_to_stockouts_as_integration_rises(levels: dict[str, Run]) -> None:
    multi, cross, omni = (lost_to_stockouts(levels[n]) for n in LEVELS)
    assert multi > 1.5 * cross
    assert cross > omni
    assert omni > 0  # stock-outs still happen; what changes is what becomes of them


def test_silos_show_more_ids_per_person(levels: dict[str, Run]) -> None:
    multi, cross, omni = (ids_per_person(levels[n], "several_channels") for n in LEVELS)
    # measured 3.8, 3.1 and 1.8: each silo its device and its own account; crosschannel one account
    # once identified; omnichannel the account before any login for account holders
    assert multi > cross + 0.3
    assert cross > omni + 0.5
    # omnichannel recognises everyone who logged in on every own channel (measured 1.4: the
    # marketplace is a third party); the same customers show 3.2 in crosschannel
    logged_in_cross, logged_in_omni = (
        ids_per_person(levels[n], "logged_in") for n in ("crosschannel", "omnichannel")
    )
    assert logged_in_omni < 1.5 < logged_in_cross


def test_identities_in_the_ground_truth_cover_every_visible_id(levels: dict[str, Run]) -> None:
    for run in levels.values():
        known = set(pc.list_flatten(run.customers().column("identities")).to_pylist())
        seen = set(pc.unique(run.events(["visible_id"]).column("visible_id")).to_pylist())
        assert seen <= known


def test_journeys_span_several_channels_in_every_scenario(levels: dict[str, Run]) -> None:
    """Purchase intents cross channels at every level (measured 55%); campaign messages nobody
    acted on and service contacts are one-channel journeys and are left out."""
    for name, run in levels.items():
        journeys = run.journeys()
        intents = journeys.filter(pc.is_in(journeys.column("outcome").cast(pa.string()), pa.array(INTENTS)))
        assert intents.num_rows > 1000, name
        channels = intents.column("channels")
        spanning = pc.sum(pc.greater_equal(pc.list_value_length(channels), 2)).as_py()
        assert spanning / len(channels) > 0.4, name


def _orders_from_store(run: Run) -> int:
    """Journeys where, after an empty shelf, the customer ordered through staff or a kiosk and bought
    (a substitute taken off the shelf, at every level, needs neither)."""
    t = run.events(["journey_id", "ts", "event_type"]).sort_by(
        [("journey_id", "ascending"), ("ts", "ascending")]
    )
    kinds = np.array(t.column("event_type").cast(pa.string()).to_pylist())
    journey = t.column("journey_id").to_numpy()
    seen_out: set[int] = set()
    helped: set[int] = set()
    ordered: set[int] = set()
    for j, kind in zip(journey.tolist(), kinds.tolist(), strict=True):
        if kind == "stock_out":
            seen_out.add(j)
        elif j in seen_out and kind in ("staff_assist", "kiosk_order"):
            helped.add(j)
        elif j in helped and kind == "purchase":
            ordered.add(j)
    return len(ordered)


def test_click_and_collect_and_order_from_store_only_where_channels_are_linked(
    levels: dict[str, Run],
) -> None:
    multi, cross, omni = (levels[n] for n in LEVELS)
    assert count(multi, "order_ready") == count(multi, "pickup") == 0
    assert _orders_from_store(multi) == 0
    for linked in (cross, omni):
        assert count(linked, "order_ready") > 50
        assert count(linked, "pickup") > 10  # a one-day run sees only the orders ready the same day
        assert _orders_from_store(linked) > 5


def test_kiosks_bring_kiosk_sessions_and_fewer_lost_sales(levels: dict[str, Run]) -> None:
    pilot, without = levels["kiosk_pilot"], levels["crosschannel"]
    assert count(pilot, "kiosk_order") > 10
    kiosk_events = pc.sum(
        pc.equal(pilot.events(["channel"]).column("channel").cast(pa.string()), "kiosk")
    ).as_py()
    assert kiosk_events > 100
    assert (
        pc.sum(pc.equal(without.events(["channel"]).column("channel").cast(pa.string()), "kiosk")).as_py()
        == 0
    )
    assert lost_to_stockouts(pilot) < lost_to_stockouts(without)


@pytest.fixture(scope="module")
def ordinary_and_experiments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("experiments")
    return {name: _run(tmp, name, 60000, name) for name in ("omnichannel", "black_friday", "app_outage")}


def _calls(run: Run) -> tuple[float, float]:
    t = run.events(["event_type", "wait_s"])
    kinds = t.column("event_type").cast(pa.string())
    answered = t.filter(pc.equal(kinds, "call_answered")).column("wait_s").to_numpy()
    abandoned = t.filter(pc.equal(kinds, "call_abandoned")).column("wait_s").to_numpy()
    waits = np.concatenate([answered, abandoned])
    return float(waits.mean()), len(abandoned) / len(waits)


def test_black_friday_makes_callers_wait_and_hang_up(ordinary_and_experiments: dict[str, Run]) -> None:
    ordinary_wait, ordinary_abandon = _calls(ordinary_and_experiments["omnichannel"])
    sale_wait, sale_abandon = _calls(ordinary_and_experiments["black_friday"])
    assert sale_wait > 3 * ordinary_wait
    assert sale_abandon > 2 * ordinary_abandon and sale_abandon > 0.2


def test_black_friday_campaigns_go_out_and_bring_customers(ordinary_and_experiments: dict[str, Run]) -> None:
    run = ordinary_and_experiments["black_friday"]
    assert count(run, "message_sent") > 1000
    t = run.events(["campaign_id", "event_type"])
    responses = t.filter(
        pc.and_(
            pc.is_valid(t.column("campaign_id")),
            pc.equal(t.column("event_type").cast(pa.string()), "session_start"),
        )
    )
    assert responses.num_rows > 50


def _window(run: Run, begins: int, ends: int) -> dict[str, np.ndarray]:
    s = sessions(run)
    inside = (s["hour"] >= begins) & (s["hour"] < ends)
    return {k: v[inside] for k, v in s.items()}


def test_app_outage_moves_customers_to_other_channels(ordinary_and_experiments: dict[str, Run]) -> None:
    outage = ordinary_and_experiments["app_outage"]
    t = outage.events(["ts", "channel"])
    hours = pc.hour(local(t.column("ts"))).to_numpy()
    on_app = np.array(t.column("channel").cast(pa.string()).to_pylist()) == "mobile_app"
    assert on_app.sum() > 1000
    assert not (on_app & (hours >= 12) & (hours < 14)).any()
    ordinary = _window(ordinary_and_experiments["omnichannel"], 12, 14)
    during = _window(outage, 12, 14)
    assert (ordinary["channel"] == "mobile_app").sum() > 100
    for channel in ("mobile_web", "desktop_web"):
        assert (during["channel"] == channel).sum() > (ordinary["channel"] == channel).sum()
    # some gave up: fewer sessions in the window than on the ordinary day
    assert len(during["channel"]) < len(ordinary["channel"])


def test_the_ultra_connected_use_their_phone_in_the_store(levels: dict[str, Run]) -> None:
    run = levels["omnichannel"]
    t = run.events(["customer_id", "session_id", "ts", "channel", "persona", "event_type"])
    kinds = np.array(t.column("event_type").cast(pa.string()).to_pylist())
    cust = t.column("customer_id").to_numpy()
    ts = t.column("ts").cast(pa.int64()).to_numpy()
    channel = np.array(t.column("channel").cast(pa.string()).to_pylist())
    persona = np.array(t.column("persona").cast(pa.string()).to_pylist())
    enter = {
        (c, s): when
        for c, s, when, k in zip(cust, t.column("session_id").to_numpy(), ts, kinds, strict=True)
        if k == "store_enter"
    }
    leave = {
        (c, s): when
        for c, s, when, k in zip(cust, t.column("session_id").to_numpy(), ts, kinds, strict=True)
        if k == "store_exit"
    }
    visits: dict[int, list[tuple[int, int]]] = {}
    for key, start in enter.items():
        if key in leave:
            visits.setdefault(int(key[0]), []).append((start, leave[key]))
    phone_start = (kinds == "session_start") & np.isin(channel, ["mobile_app", "mobile_web"])
    overlapping: dict[str, int] = {}
    for c, when, who in zip(cust[phone_start], ts[phone_start], persona[phone_start], strict=True):
        if any(a <= when <= b for a, b in visits.get(int(c), [])):
            overlapping[who] = overlapping.get(who, 0) + 1
    assert overlapping.get("ultra_connected", 0) > 20
    assert overlapping.get("ultra_connected", 0) > 2 * overlapping.get("traditional", 0)


def test_campaign_responses_follow_the_persona(tmp_path: Path) -> None:
    """The ultra-connected answer a push within minutes, on the app; the traditional answer the paper
    catalogue in store, days later."""
    text = (SCENARIO_DIR / "omnichannel.toml").read_text().replace("\ndays = 1\n", "\ndays = 7\n")
    text += (
        '\n[[campaigns]]\nname = "push_am"\nchannel = "push"\nat = "10:00"\n'
        '\n[[campaigns]]\nname = "autumn_catalogue"\nchannel = "catalogue"\nat = "08:00"\n'
    )
    path = tmp_path / "campaigns.toml"
    path.write_text(text)
    run = _run(tmp_path, path, 3000, "week")
    t = run.events(["campaign_id", "event_type", "ts", "persona", "channel", "journey_id"])
    kinds = t.column("event_type").cast(pa.string())
    sent = t.filter(pc.equal(kinds, "message_sent"))
    # the scenario's own weekly calendar comes first; each send's id is (day - 1) * 100 + index
    names = [c["name"] for c in run.manifest.scenario.data["campaigns"]]
    push, catalogue = names.index("push_am"), names.index("autumn_catalogue")
    send_ms = {
        c: pc.min(sent.filter(pc.equal(sent.column("campaign_id"), c)).column("ts")).as_py()
        for c in (push, catalogue)
    }
    first = t.filter(
        pc.and_(
            pc.is_valid(t.column("campaign_id")),
            pc.is_in(kinds, pa.array(["session_start", "store_enter", "call_queued"])),
        )
    )

    def responses(campaign: int, persona: str) -> tuple[np.ndarray, np.ndarray]:
        mine = first.filter(
            pc.and_(
                pc.equal(first.column("campaign_id"), campaign),
                pc.equal(first.column("persona").cast(pa.string()), persona),
            )
        )
        delay_h = np.array(
            [(ts - send_ms[campaign]).total_seconds() / 3600 for ts in mine.column("ts").to_pylist()]
        )
        return delay_h, np.array(mine.column("channel").cast(pa.string()).to_pylist())

    push_delay, push_channel = responses(push, "ultra_connected")
    # push opens are now the published 2-7% of deliveries (were 45%): fewer answers to look at
    assert len(push_delay) > 10
    assert np.median(push_delay) < 0.5
    assert np.mean(push_channel == "mobile_app") > 0.6
    catalogue_delay, catalogue_channel = responses(catalogue, "traditional")
    assert len(catalogue_delay) > 30
    assert np.median(catalogue_delay) > 24
    assert np.mean(catalogue_channel == "store") > 0.5


def _store_purchases_after_own_site_research(run: Run) -> int:
    """Store purchases whose journey had an own-site session before (research online, buy in store)."""
    t = run.events(["journey_id", "ts", "event_type", "channel"])
    kinds = np.array(t.column("event_type").cast(pa.string()).to_pylist())
    channel = np.array(t.column("channel").cast(pa.string()).to_pylist())
    journey = t.column("journey_id").to_numpy()
    ts = t.column("ts").cast(pa.int64()).to_numpy()
    own = np.isin(channel, ["mobile_app", "mobile_web", "desktop_web", "tablet"]) & (kinds == "session_start")
    first_own: dict[int, int] = {}
    for j, when in zip(journey[own].tolist(), ts[own].tolist(), strict=True):
        first_own[j] = min(when, first_own.get(j, when))
    store_buy = (kinds == "purchase") & (channel == "store")
    return sum(
        1
        for j, when in zip(journey[store_buy].tolist(), ts[store_buy].tolist(), strict=True)
        if first_own.get(j, when) < when
    )


def test_browsing_online_then_buying_in_store_needs_no_link(levels: dict[str, Run]) -> None:
    """Silos only hurt journeys whose data must cross channels: looking on a phone, then walking into
    a store, sells as well in silos as in omnichannel (where a few more go online after seeing the
    store's stock, and recognised customers buy slightly more)."""
    multi, omni = (
        _store_purchases_after_own_site_research(levels[n]) for n in ("multichannel", "omnichannel")
    )
    assert multi > 200
    assert multi > 0.85 * omni
