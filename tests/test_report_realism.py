"""The realism references (shipped data, checked on load), the verdict rule, and the report on a week."""

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
from parcours.report.columns.journeys import MONO
from parcours.report.numbers.kpis import headline
from parcours.report.numbers.summary import RunSummary, summarise
from parcours.report.realism.figures import CHECKS
from parcours.report.realism.flows import SHOWN
from parcours.report.realism.references import load_references
from parcours.report.realism.stats import (
    INSIDE,
    NOT_CHECKABLE,
    OUTSIDE,
    TOO_FEW,
    exact_count,
    proportion,
    unavailable,
    verdict,
    weighted_share,
    wilson,
)

GOOD = """
[[reference]]
id = "R11"
key = "call_abandonment"
kind = "check"
label = "Calls given up"
definition = "abandoned / queued"
published = "5 to 8%"
source = "A study"
period = "a year"
population = "call centres"
confidence = "verified"
caveat = ""
low = 0.02
high = 0.12
unit = "%"
"""


def test_every_shipped_reference_loads_with_a_source_period_and_population() -> None:
    refs = load_references()
    assert {r.key for r in refs} == set(CHECKS) | set(SHOWN)  # every computed figure is shown somewhere
    assert len({r.id for r in refs}) == len(refs)
    for r in refs:
        assert r.source and r.published and r.period and r.population and r.definition
        assert "http" not in r.source + r.published + r.remarks + r.caveat
        if r.confidence in ("unverified", "assumption"):
            assert "assumption" in r.caveat
        if r.checked:
            assert r.low <= r.high


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda t: t.replace('source = "A study"\n', ""), "missing source"),
        (lambda t: t.replace('"call_abandonment"', '"nonsense"'), "key 'nonsense' is not one of"),
        (lambda t: t.replace("low = 0.02", "low = 0.5"), "low (0.5) must not exceed high (0.12)"),
        (lambda t: t.replace('"verified"', '"unverified"'), "caveat must say which part is an assumption"),
        (lambda t: t.replace("low = 0.02\n", ""), "a check needs low and high"),
        (lambda t: t.replace('unit = "%"', 'unit = "%"\nlevels = ["silo"]'), "unknown integration level"),
        (lambda t: t + t, "id 'R11' appears twice"),
    ],
    ids=["missing-field", "unknown-key", "low-above-high", "unverified-unsaid", "no-range", "level", "twice"],
)
def test_a_bad_reference_file_is_refused_naming_the_entry(edit: Callable[[str], str], problem: str) -> None:
    assert load_references(GOOD, "mine.toml")[0].key == "call_abandonment"
    with pytest.raises(ParcoursError) as refused:
        load_references(edit(GOOD), "mine.toml")
    assert str(refused.value).startswith("mine.toml: reference[") and problem in str(refused.value)


def _score_bound(k: int, n: int, upper: bool) -> float:
    """Wilson's bound found by bisection: the p at which |k/n - p| = 1.96 * sqrt(p (1 - p) / n)."""
    lo, hi = (k / n, 1.0) if upper else (0.0, k / n)
    for _ in range(200):
        mid = (lo + hi) / 2
        inside = abs(k / n - mid) < 1.959963984540054 * math.sqrt(mid * (1 - mid) / n)
        lo, hi = (mid, hi) if inside == upper else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("k, n", [(0, 10), (15, 148), (81, 263), (7, 7), (1, 2_000)])
def test_wilson_interval_is_the_score_interval(k: int, n: int) -> None:
    low, high = wilson(k, n)
    assert low == pytest.approx(_score_bound(k, n, False), abs=1e-9)
    assert high == pytest.approx(_score_bound(k, n, True), abs=1e-9)
    assert wilson(0, 10)[1] == pytest.approx(1.959963984540054**2 / (10 + 1.959963984540054**2))
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_weighted_share_interval_shrinks_with_observations() -> None:
    rng = np.random.default_rng(2)
    small, large = (rng.lognormal(8, 1, n) for n in (100, 10_000))
    a = weighted_share(small, np.arange(100) % 5 == 0)
    b = weighted_share(large, np.arange(10_000) % 5 == 0)
    assert a.value == pytest.approx(small[::5].sum() / small.sum())
    assert a.low < a.value < a.high and b.low < b.value < b.high
    assert (b.high - b.low) < (a.high - a.low) / 5


def test_verdict_by_the_interval_against_the_range() -> None:
    assert verdict(proportion(25, 1000), 0.013, 0.040) == INSIDE  # 2.5% [1.7%, 3.7%]
    assert verdict(proportion(165, 1000), 0.013, 0.040) == OUTSIDE  # the 16.5%
    assert verdict(proportion(45, 1000), 0.013, 0.040) == INSIDE  # 4.5% [3.4%, 6.0%] touches the range
    assert verdict(proportion(1, 20), 0.013, 0.040) == TOO_FEW  # [0.9%, 23.6%]: wider than the range
    assert verdict(proportion(15, 30), 0.02, 0.12) == OUTSIDE  # wide, but wholly above: decided
    assert verdict(proportion(0, 0), 0.02, 0.12) == TOO_FEW
    assert verdict(unavailable("too short"), 0.0, 1.0) == NOT_CHECKABLE
    assert verdict(exact_count(0, 50), 0, 0) == INSIDE and verdict(exact_count(1, 50), 0, 0) == OUTSIDE


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
    local = table["ts_min"].cast(pa.timestamp("ms", tz=week_run.manifest.scenario.calendar.timezone))
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
    tz = week_run.manifest.scenario.calendar.timezone
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
    assert week.typology.counts[:, 1:].sum() == len(several)
    assert week.typology.revenue_cents.sum() == sum(revenue.values())
