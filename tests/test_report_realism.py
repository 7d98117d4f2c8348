"""The realism panel's references (shipped data, checked on load) and the report on a simulated week."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.errors import ParcoursError
from parcours.output.reader import Run
from parcours.report.journeys import MONO
from parcours.report.kpis import headline
from parcours.report.realism import METRICS, Reference, load_references, realism
from parcours.report.summary import RunSummary, summarise

GOOD = """
[[reference]]
metric = "call_abandonment"
label = "Calls given up"
published = "5 to 8%"
source = "A study"
low = 0.02
high = 0.15
unit = "%"
remarks = "why the range"
"""


def test_every_shipped_reference_loads_with_a_source_and_a_known_metric() -> None:
    refs = load_references()
    assert len(refs) >= 6
    assert {r.metric for r in refs} == set(METRICS)
    for r in refs:
        assert r.source and r.published and r.remarks and r.low <= r.high
        assert "http" not in r.source + r.published + r.remarks


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda t: t.replace('source = "A study"\n', ""), "missing source"),
        (lambda t: t.replace('"call_abandonment"', '"nonsense"'), "metric 'nonsense' is not one of"),
        (lambda t: t.replace("low = 0.02", "low = 0.5"), "low (0.5) must not exceed high (0.15)"),
    ],
    ids=["missing-field", "unknown-metric", "low-above-high"],
)
def test_a_bad_reference_file_is_refused_naming_the_entry(edit: Callable[[str], str], problem: str) -> None:
    assert load_references(GOOD, "mine.toml")[0].metric == "call_abandonment"
    with pytest.raises(ParcoursError) as refused:
        load_references(edit(GOOD), "mine.toml")
    assert str(refused.value).startswith("mine.toml: reference[0]: ") and problem in str(refused.value)


def test_verdicts_and_display() -> None:
    ref = load_references(GOOD)[0]
    assert [ref.verdict(v) for v in (0.01, 0.02, 0.1, 0.15, 0.2, math.nan)] == [
        "outside",
        "inside",
        "inside",
        "inside",
        "outside",
        "no data",
    ]
    assert ref.show(0.0834) == "8.3%"
    hour = Reference("desktop_peak_hour", "l", "p", "s", 8, 17, "h", "r")
    assert hour.show(9.0) == "09:00" and hour.verdict(18.0) == "outside"


@pytest.fixture(scope="module")
def week(week_run: Run) -> RunSummary:
    return summarise(week_run)


def test_simulated_week_sessions_by_hour_and_day_type(week_run: Run, week: RunSummary) -> None:
    ev = week_run.events(["session_id", "ts", "channel", "persona", "event_type"])
    ev = ev.filter(
        pc.invert(pc.is_in(ev["event_type"].cast(pa.string()), pa.array(["message_sent", "order_ready"])))
    )
    firsts = ev.group_by("session_id").aggregate([("ts", "min")])
    meta = ev.group_by(["session_id", "channel", "persona"]).aggregate([])
    assert meta.num_rows == firsts.num_rows  # a session stays on one channel, one persona
    table = firsts.join(meta, "session_id")
    local = table["ts_min"].cast(pa.timestamp("ms", tz=week_run.manifest["scenario"]["calendar"]["timezone"]))
    weekend = (pc.day_of_week(local).to_numpy() >= 5).astype(int)
    counts = Counter(
        zip(
            weekend,
            table["persona"].cast(pa.string()).to_pylist(),
            table["channel"].cast(pa.string()).to_pylist(),
            pc.hour(local).to_pylist(),
            strict=True,
        )
    )
    days_of_type = (5, 2)  # Monday 23 November 2026 to Sunday
    for (w, persona, channel, hour), n in counts.items():
        got = week.sessions_by_hour[w, week.personas.index(persona), week.channels.index(channel), hour]
        assert got == pytest.approx(n / days_of_type[w])
    assert headline(week)["sessions_per_day"] == pytest.approx(firsts.num_rows / 7)


def test_simulated_week_typology_and_realism(week_run: Run, week: RunSummary) -> None:
    j = week_run.journeys()
    tz = week_run.manifest["scenario"]["calendar"]["timezone"]
    dates = pc.strftime(j["start"].cast(pa.timestamp("ms", tz=tz)), "%Y-%m-%d").to_pylist()
    days: dict[tuple[int, str], list[set[str]]] = defaultdict(list)
    revenue: Counter[tuple[int, str]] = Counter()
    for customer, date, channels, cents in zip(
        j["customer_id"].to_pylist(),
        dates,
        j["channels"].to_pylist(),
        j["revenue_cents"].to_pylist(),
        strict=True,
    ):
        days[(customer, date)].append(set(channels))
        revenue[(customer, date)] += cents
    # a customer-day with only unanswered campaign sends uses no channel: not an active day
    days = {k: js for k, js in days.items() if set().union(*js)}
    mono = [k for k, js in days.items() if len(set().union(*js)) == 1]
    several = [k for k in days if k not in set(mono)]
    assert week.typology.counts[:, MONO].sum() == len(mono)
    checks = {c.reference.metric: c.values[0] for c in realism([week])}
    assert checks["several_channels_share"] == pytest.approx(len(several) / len(days))
    ratio = np.mean([revenue[k] for k in several]) / np.mean([revenue[k] for k in mono])
    assert checks["spend_ratio"] == pytest.approx(ratio)
