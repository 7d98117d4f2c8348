"""The report of a week: days of the week apart, the busiest hour of a mean day, journey flows and
personas, each checked against a count made by hand from the Parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.cli.main import main
from parcours.output.reader import Run
from tests.support import run_main, simulate

DAYS = 7
COMPANY = ("message_sent", "order_ready")  # the retailer acts: not a customer's session
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict]:
    root = tmp_path_factory.mktemp("week")
    run = simulate(root / "week", customers=1500, days=DAYS, start="2026-11-23", seed=3)
    out = root / "week.json"
    with pytest.raises(SystemExit) as done:
        main(["report", str(run.path), "--format", "json", "-o", str(out)])
    assert not done.value.code
    return run, json.loads(out.read_text())["runs"][0]


def _session_starts(run: Run) -> pa.Table:
    """Each session's first customer event (by hand: no parcours code), with its local hour and weekday."""
    ev = run.events(["session_id", "ts", "event_type", "channel"])
    ev = ev.filter(pc.invert(pc.is_in(ev["event_type"].cast(pa.string()), pa.array(COMPANY))))
    firsts = ev.group_by("session_id").aggregate([("ts", "min")])
    local = firsts["ts_min"].cast(pa.timestamp("ms", tz=run.manifest.scenario.calendar.timezone))
    return firsts.append_column("hour", pc.hour(local)).append_column("weekday", pc.day_of_week(local))


def test_busiest_hour_is_a_hand_count_over_the_days(week: tuple[Run, dict]) -> None:
    run, doc = week
    starts = _session_starts(run)
    per_hour = np.bincount(starts["hour"].to_numpy(), minlength=24)
    hour = int(np.argmax(per_hour))
    assert doc["busiest_hour"]["hour"] == hour
    assert doc["busiest_hour"]["sessions_per_day"] == pytest.approx(per_hour[hour] / DAYS, abs=1e-5)
    assert doc["busiest_hour"]["days"] == DAYS


def test_by_weekday_keeps_each_day_apart(week: tuple[Run, dict]) -> None:
    run, doc = week
    rows = doc["by_weekday"]
    assert [r["weekday"] for r in rows] == list(WEEKDAYS)
    assert [r["kind"] for r in rows][-2:] == ["saturday", "sunday"]
    weekday = np.bincount(_session_starts(run)["weekday"].to_numpy(), minlength=7)
    for r, hand in zip(rows, weekday, strict=True):
        assert r["days"] == 1 and r["sessions_per_day"] == pytest.approx(hand)
    sunday = rows[-1]
    assert sunday["store_visits_per_day"] == 0 and rows[5]["store_visits_per_day"] > 0  # closed on Sunday
    total = sum(r["revenue_eur_per_day"] * r["days"] for r in rows)
    assert total / DAYS == pytest.approx(doc["kpis"]["revenue_eur_per_day"], rel=1e-6)


def test_flows_and_personas_add_up(week: tuple[Run, dict]) -> None:
    run, doc = week
    flows = doc["flows"]
    first = [link for link in flows["overall"]["links"] if link["from_stage"] == "research"]
    assert sum(link["journeys"] for link in first) == flows["overall"]["journeys"] > 0
    assert sum(p["journeys"] for p in flows["by_persona"].values()) == flows["overall"]["journeys"]
    bought = sum(link["journeys"] for link in first if link["to"] != "no purchase")
    # by hand: purchase intents (not service, not unanswered messages) with a session and an order
    ev = run.events(["journey_id", "event_type", "session_id"])
    kinds = ev["event_type"].cast(pa.string())
    ordered = set(
        pc.unique(ev.filter(pc.is_in(kinds, pa.array(["purchase", "kiosk_order"])))["journey_id"]).to_pylist()
    )
    with_session = set(
        pc.unique(ev.filter(pc.invert(pc.is_in(kinds, pa.array(COMPANY))))["journey_id"]).to_pylist()
    )
    j = run.journeys(columns=["journey_id", "outcome"])
    intents = j.filter(
        pc.invert(pc.is_in(j["outcome"].cast(pa.string()), pa.array(["service", "no_response"])))
    )
    ids = set(intents["journey_id"].to_pylist()) & with_session
    assert bought == len(ids & ordered)
    rows = doc["personas"]
    assert {r["persona"] for r in rows} == set(flows["by_persona"])
    for r in rows:
        c = r["conversion"]
        assert 0 <= c["ci_low"] <= c["value"] <= c["ci_high"] <= 1 and c["n"] == r["purchase_intents"]
    assert sum(r["revenue_eur_per_day"] for r in rows) == pytest.approx(doc["kpis"]["revenue_eur_per_day"])


def test_the_page_draws_flows_weekdays_and_personas(
    week: tuple[Run, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = week
    out = tmp_path / "week.html"
    code, _, err = run_main(["report", str(run.path), "-o", str(out)], capsys)
    assert code == 0, err
    page = out.read_text()
    assert page.count("<svg") >= 2 and "research channel" in page  # the Sankey, drawn inline
    assert 'id="weekdays"' in page and 'id="personas"' in page and 'id="flows"' in page
    assert "http" not in page.lower()
