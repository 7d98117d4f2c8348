"""The report's numbers against the same figures computed here with loops and sets on the rows written.

The runs come from tests/report_support.py: random customers written through the real writer, with
row groups and batches small enough that sessions straddle them.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from parcours.errors import RunDirError
from parcours.output.reader import Run
from parcours.report.columns.codes import Codes
from parcours.report.numbers.kpis import headline
from parcours.report.numbers.summary import RunSummary, summarise
from parcours.report.pages.build import summarise_all
from tests.report_support import PERSONAS, Content, Ev, random_content, write_run

COMPANY = {"message_sent", "order_ready"}
OWN_SITE = {"mobile_app", "mobile_web", "desktop_web", "tablet"}


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Content, RunSummary]:
    c = random_content(seed=3, customers=220)
    return c, summarise(Run(write_run(tmp_path_factory.mktemp("r") / "day", c)))


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Content, RunSummary]:
    """Thursday 22 October 2026 for a week: weekdays, a weekend and the end of summer time (25th)."""
    c = random_content(seed=4, customers=60, days=7, start=dt.date(2026, 10, 22))
    return c, summarise(Run(write_run(tmp_path_factory.mktemp("r") / "week", c, shards=3)))


def session_starts(c: Content) -> dict[int, Ev]:
    first: dict[int, Ev] = {}
    for e in sorted(c.events, key=lambda e: e.ts_ms):
        if e.event not in COMPANY:
            first.setdefault(e.session, e)
    return first


def index(s: RunSummary) -> tuple[dict[str, int], dict[str, int]]:
    return {p: i for i, p in enumerate(s.personas)}, {ch: i for i, ch in enumerate(s.channels)}


@pytest.mark.parametrize("run", ["one_day", "week"])
def test_sessions_by_local_hour_persona_channel_and_day_type(
    run: str, request: pytest.FixtureRequest
) -> None:
    c, s = request.getfixturevalue(run)
    days = [c.start + dt.timedelta(days=d) for d in range(c.days)]
    n_weekend = sum(d.weekday() >= 5 for d in days)
    expected = Counter()
    for e in session_starts(c).values():
        local = c.local(e.ts_ms)
        expected[(local.weekday() >= 5, e.persona, e.channel, local.hour)] += 1
    p, ch = index(s)
    for (weekend, persona, channel, hour), n in expected.items():
        per_day = n / (n_weekend if weekend else len(days) - n_weekend)
        assert s.sessions_by_hour[int(weekend), p[persona], ch[channel], hour] == pytest.approx(per_day)
    assert s.sessions_by_hour.sum() == pytest.approx(
        sum(n / (n_weekend if k[0] else len(days) - n_weekend) for k, n in expected.items())
    )


def test_weekend_appears_only_when_the_run_has_one(
    one_day: tuple[Content, RunSummary], week: tuple[Content, RunSummary]
) -> None:
    assert not one_day[1].has_weekend_and_weekdays and one_day[1].sessions_by_hour[1].sum() == 0
    assert week[1].has_weekend_and_weekdays and week[1].sessions_by_hour[1].sum() > 0


def test_transitions_follow_each_customers_sessions_in_time_order(
    one_day: tuple[Content, RunSummary],
) -> None:
    c, s = one_day
    by_customer: dict[int, list[Ev]] = defaultdict(list)
    for e in session_starts(c).values():
        by_customer[e.customer].append(e)
    expected = Counter()
    for sessions in by_customer.values():
        sessions.sort(key=lambda e: (e.ts_ms, e.session))
        expected.update((a.channel, b.channel) for a, b in zip(sessions, sessions[1:], strict=False))
    _, ch = index(s)
    got = {(a, b): int(s.transitions[ch[a], ch[b]]) for a in ch for b in ch if s.transitions[ch[a], ch[b]]}
    assert got == dict(expected)


@pytest.mark.parametrize("run", ["one_day", "week"])
def test_typology_of_customer_days(run: str, request: pytest.FixtureRequest) -> None:
    c, s = request.getfixturevalue(run)
    days: dict[tuple[int, dt.date], list[set[str]]] = defaultdict(list)
    for j in c.journeys:
        days[(j.customer, c.local(j.start_ms).date())].append(set(j.channels))
    expected = Counter()
    channels = defaultdict(list)
    for (customer, _), journeys in days.items():
        union = set().union(*journeys)
        kind = 2 if any(len(j) > 1 for j in journeys) else (1 if len(union) > 1 else 0)
        expected[(c.personas[customer], kind)] += 1
        channels[c.personas[customer]].append(len(union))
    p, _ = index(s)
    for persona in PERSONAS:
        assert [s.typology.counts[p[persona], k] for k in range(3)] == [
            expected[(persona, k)] for k in range(3)
        ]
        assert s.typology.channels_per_day[p[persona]] == pytest.approx(np.mean(channels[persona]))


def test_funnel_per_persona_and_channel(one_day: tuple[Content, RunSummary]) -> None:
    c, s = one_day
    seen: dict[int, set[str]] = defaultdict(set)
    for e in c.events:
        seen[e.session].add(e.event)
    expected = Counter()
    for sid, first in session_starts(c).items():
        key = (first.persona, first.channel)
        expected[key + ("sessions",)] += 1
        expected[key + ("carts",)] += "cart_add" in seen[sid]
        expected[key + ("orders",)] += bool(seen[sid] & {"purchase", "kiosk_order"})
    for e in c.events:
        if e.event == "pickup":
            expected[(e.persona, e.channel, "pickups")] += 1
        if e.event in ("return", "exchange"):
            expected[(e.persona, e.channel, "returns")] += 1
    p, ch = index(s)
    stages = ("sessions", "carts", "orders", "pickups", "returns")
    got = {
        (persona, channel, st): int(s.funnel[p[persona], ch[channel], k])
        for persona in p
        for channel in ch
        for k, st in enumerate(stages)
        if s.funnel[p[persona], ch[channel], k]
    }
    assert got == {k: v for k, v in expected.items() if v}


def test_revenue_basket_and_refunds(one_day: tuple[Content, RunSummary]) -> None:
    c, s = one_day
    buys = [e for e in c.events if e.event == "purchase"]
    p, ch = index(s)
    revenue = Counter()
    for e in buys:
        revenue[(e.persona, e.channel)] += e.amount
    for (persona, channel), cents in revenue.items():
        assert s.sales.revenue_cents[p[persona], ch[channel]] == cents
    assert s.sales.purchases.sum() == len(buys)
    assert s.sales.items.sum() == sum(e.quantity for e in buys)
    assert headline(s)["basket_eur"] == pytest.approx(statistics.mean(e.amount for e in buys) / 100)
    assert headline(s)["revenue_eur_per_day"] == pytest.approx(sum(e.amount for e in buys) / 100)
    assert s.sales.refunds_cents == sum(e.amount for e in c.events if e.event == "return")


def test_stockouts_and_what_became_of_them(one_day: tuple[Content, RunSummary]) -> None:
    c, s = one_day
    outcome = {j.journey: j.outcome for j in c.journeys}
    hit = {e.journey for e in c.events if e.event == "stock_out"}
    last_buy = {
        e.journey: e.channel for e in sorted(c.events, key=lambda e: e.ts_ms) if e.event == "purchase"
    }
    fate = Counter()
    for j in hit:
        if outcome[j] == "lost_to_stockout":
            fate["lost to the stock-out"] += 1
        elif outcome[j] == "abandoned":
            fate["abandoned"] += 1
        elif outcome[j] in ("bought", "returned"):
            fate[f"then bought: {last_buy[j]}"] += 1
    first_price = {}
    for e in sorted(c.events, key=lambda e: e.ts_ms):
        if e.event == "stock_out":
            first_price.setdefault(e.journey, e.amount)
    assert s.stockouts.journeys == len(hit)
    assert {k: v for k, v in s.stockouts.fate.items() if v} == dict(fate)
    lost = [j for j in hit if outcome[j] == "lost_to_stockout"]
    assert s.stockouts.lost_value_cents == sum(first_price[j] for j in lost)
    assert headline(s)["lost_sales_per_day"] == len(
        [j for j in c.journeys if j.outcome == "lost_to_stockout"]
    )


def test_lost_value_is_unknown_when_stock_outs_carry_no_price(tmp_path: Path) -> None:
    c = random_content(seed=3, customers=220)
    for e in c.events:
        if e.event == "stock_out":
            e.amount = -1
    s = summarise(Run(write_run(tmp_path / "unpriced", c)))
    assert s.stockouts.journeys > 0 and math.isnan(s.stockouts.lost_value_cents)
    assert math.isnan(headline(s)["lost_sales_eur_per_day"])


def test_call_centre_by_hour_of_arrival(one_day: tuple[Content, RunSummary]) -> None:
    c, s = one_day
    ends = [e for e in c.events if e.event in ("call_answered", "call_abandoned")]
    answered, abandoned = Counter(), Counter()
    waits_by_hour = defaultdict(list)
    for e in ends:
        hour = c.local(e.ts_ms - int(e.wait_s * 1000)).hour
        (answered if e.event == "call_answered" else abandoned)[hour] += 1
        waits_by_hour[hour].append(e.wait_s)
    assert list(s.calls.answered) == [answered[h] for h in range(24)]
    assert list(s.calls.abandoned) == [abandoned[h] for h in range(24)]
    for hour, waits in waits_by_hour.items():
        if len(waits) >= 2:
            q = statistics.quantiles(waits, n=10, method="inclusive")
            assert s.calls.wait_s[1, hour] == pytest.approx(q[8])  # p90
            assert s.calls.wait_s[0, hour] == pytest.approx(statistics.median(waits))
    k = headline(s)
    assert k["mean_wait_s"] == pytest.approx(statistics.mean(e.wait_s for e in ends))
    assert k["call_abandonment"] == pytest.approx(sum(abandoned.values()) / len(ends))


def test_store_visits_and_staff_waits(one_day: tuple[Content, RunSummary]) -> None:
    c, s = one_day
    p, _ = index(s)
    visits = Counter((e.persona, c.local(e.ts_ms).hour) for e in c.events if e.event == "store_enter")
    for (persona, hour), n in visits.items():
        assert s.stores.visits[p[persona], hour] == n
    assists = [e.wait_s for e in c.events if e.event in ("staff_assist", "assist_abandoned")]
    assert sorted(s.stores.assist.waits) == sorted(assists)
    gave_up = sum(e.event == "assist_abandoned" for e in c.events)
    assert gave_up and s.stores.assist.abandonment() == pytest.approx(gave_up / len(assists))


def test_conversion_and_channel_kpis(week: tuple[Content, RunSummary]) -> None:
    c, s = week
    intents = [j for j in c.journeys if j.outcome != "service"]
    k = headline(s)
    assert k["journey_conversion"] == pytest.approx(
        sum(j.outcome in ("bought", "returned") for j in intents) / len(intents)
    )
    days: dict[tuple[int, dt.date], set[str]] = defaultdict(set)
    for j in c.journeys:
        days[(j.customer, c.local(j.start_ms).date())].update(j.channels)
    assert k["channels_per_customer"] == pytest.approx(np.mean([len(v) for v in days.values()]))
    dates = {c.start + dt.timedelta(days=d) for d in range(c.days)}  # a session after the run: not counted
    came = [e for e in session_starts(c).values() if e.channel not in ("email", "sms", "push", "catalogue")]
    active = {(e.customer, c.local(e.ts_ms).date()) for e in came} & {
        (customer, d) for customer in c.personas for d in dates
    }
    assert k["active_share"] == pytest.approx(len(active) / (len(c.personas) * c.days))


def test_report_realism_panel_uses_own_site_definitions(one_day: tuple[Content, RunSummary]) -> None:
    """Cart abandonment and research-online-buy-in-store on the retailer's own site and app only."""
    c, s = one_day
    seen: dict[int, set[str]] = defaultdict(set)
    for e in c.events:
        seen[e.session].add(e.event)
    starts = session_starts(c)
    carts = [sid for sid, e in starts.items() if e.channel in OWN_SITE and "cart_add" in seen[sid]]
    abandoned = s.finding("cart_abandonment")
    assert abandoned is not None
    assert (abandoned.measure.numerator, abandoned.measure.denominator) == (
        sum("purchase" not in seen[sid] for sid in carts),
        len(carts),
    )
    store_buys = [e for e in c.events if e.event == "purchase" and e.channel in ("store", "kiosk")]
    researched = [
        any(f.journey == e.journey and f.channel in OWN_SITE and f.ts_ms < e.ts_ms for f in starts.values())
        for e in store_buys
    ]
    ropo = s.finding("ropo_journeys")
    assert ropo is not None and ropo.measure.value == pytest.approx(sum(researched) / len(store_buys))


def test_same_run_gives_the_same_figures(tmp_path: Path) -> None:
    c = random_content(seed=5, customers=30)
    a = summarise(Run(write_run(tmp_path / "a", c, shards=1, row_group_rows=1000)))
    b = summarise(Run(write_run(tmp_path / "b", c, shards=4, row_group_rows=16)))
    assert headline(a) == pytest.approx(headline(b), nan_ok=True)
    assert np.array_equal(a.transitions, b.transitions)
    assert np.array_equal(a.funnel, b.funnel)


def test_compared_runs_line_their_personas_up_by_name(tmp_path: Path) -> None:
    full = random_content(seed=6, customers=80)
    keep = {"young", "traditional"}
    part = Content(
        personas={c: p for c, p in full.personas.items() if p in keep},
        events=[e for e in full.events if e.persona in keep],
        journeys=[j for j in full.journeys if j.persona in keep],
    )
    runs = [Run(write_run(tmp_path / "all", full)), Run(write_run(tmp_path / "two", part))]
    both = summarise_all(runs)
    alone = summarise(runs[1])
    assert both[0].personas == both[1].personas == PERSONAS
    for persona in keep:
        got = both[1].typology.counts[both[1].personas.index(persona)]
        assert list(got) == list(alone.typology.counts[alone.personas.index(persona)])
        assert got.sum() > 0
    for persona in set(PERSONAS) - keep:
        assert both[1].typology.counts[both[1].personas.index(persona)].sum() == 0


def test_codes_need_only_the_values_rows_use() -> None:
    codes = Codes("channel", ["store", "phone"])
    unused = pa.DictionaryArray.from_arrays(
        pa.array([1, 1, 0], pa.int8()), pa.array(["store", "phone", "fax"])
    )
    assert list(codes.encode(unused)) == [1, 1, 0]
    used = pa.DictionaryArray.from_arrays(pa.array([2, 0], pa.int8()), pa.array(["store", "phone", "fax"]))
    with pytest.raises(RunDirError, match="unknown channel 'fax'"):
        codes.encode(used)
