"""Each realism figure against the same figure computed here with loops and sets over the rows written.

The random runs (tests/report_support.py) hold every kind of row the figures count; the hand-built ones
(tests/realism_support.py) hold a few rows whose answer is known: a visit on a closed Sunday, an email
opened before it was sent, a scenario at the wrong integration level or on a peak day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.output.reader import Run
from parcours.report.realism.assess import Finding, assess_run
from parcours.report.realism.figures import online_revenue_share
from parcours.report.realism.stats import INSIDE, NOT_CHECKABLE, OUTSIDE
from tests.realism_support import MONDAY, Builder, store, web
from tests.report_support import Content, Ev, random_content, write_run

OWN_SITE = {"mobile_app", "mobile_web", "desktop_web", "tablet"}
ONLINE_SALES = OWN_SITE | {"marketplace"}
STORE_SALES = {"store", "kiosk"}
COMPANY = {"message_sent", "order_ready"}


def findings_of(path: Path) -> dict[str, Finding]:
    _, found = assess_run(Run(path))
    return {f.reference.key: f for f in found}


def counts(f: Finding) -> tuple[float, float]:
    return f.measure.numerator, f.measure.denominator


class Rows:
    """The content's sessions, visits and purchases, computed the slow way."""

    def __init__(self, c: Content) -> None:
        self.c = c
        self.by_session: dict[int, list[Ev]] = defaultdict(list)
        for e in sorted(c.events, key=lambda e: e.ts_ms):
            if e.event not in COMPANY:
                self.by_session[e.session].append(e)
        self.first = {s: rows[0] for s, rows in self.by_session.items()}
        self.purchases = [e for e in c.events if e.event == "purchase"]

    def types(self, session: int) -> set[str]:
        return {e.event for e in self.by_session[session]}

    def own_site(self) -> list[int]:
        return [s for s, e in self.first.items() if e.channel in OWN_SITE]

    def visits(self) -> list[int]:
        return [s for s, e in self.first.items() if e.channel == "store" and "store_enter" in self.types(s)]

    def day(self, ts_ms: int) -> int:
        return (self.c.local(ts_ms).date() - self.c.start).days

    def earliest(self, journey: int, sessions: list[int]) -> int | None:
        starts = [self.first[s].ts_ms for s in sessions if self.first[s].journey == journey]
        return min(starts) if starts else None


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, dict[str, Finding]]:
    """Four weeks and a day of random customers from Monday 2 November 2026, written on three shards."""
    c = random_content(seed=8, customers=40, days=29, start=dt.date(2026, 11, 2))
    c.inactive = 300
    return Rows(c), findings_of(write_run(tmp_path_factory.mktemp("r") / "month", c, shards=3))


def test_revenue_share_click_collect_and_stockouts(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    online = sum(e.amount for e in rows.purchases if e.channel in ONLINE_SALES)
    assert counts(f["online_revenue_share"]) == pytest.approx(
        (online / 100, sum(e.amount for e in rows.purchases) / 100)
    )
    collected_journeys = {e.journey for e in rows.c.events if e.event in ("order_ready", "pickup")}
    own = [e for e in rows.purchases if e.channel in OWN_SITE]
    collected = [e for e in own if e.store >= 0 or e.journey in collected_journeys]
    assert counts(f["click_collect_share"]) == (len(collected), len(own))
    outs = [e for e in rows.c.events if e.event == "stock_out" and e.channel == "store"]
    clean = [e for e in rows.purchases if e.channel == "store" and "stock_out" not in rows.types(e.session)]
    assert counts(f["store_stockout_rate"]) == (len(outs), len(outs) + len(clean))
    assert any(e.channel == "store" and "stock_out" in rows.types(e.session) for e in rows.purchases)


def test_session_conversion_carts_and_store_visits(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    own = rows.own_site()
    assert counts(f["online_session_conversion"]) == (
        sum("purchase" in rows.types(s) for s in own),
        len(own),
    )
    carts = [s for s in own if "cart_add" in rows.types(s)]
    assert counts(f["cart_abandonment"]) == (sum("purchase" not in rows.types(s) for s in carts), len(carts))
    kept = [
        s
        for s in rows.visits()
        if not ({"pickup", "return", "exchange"} & rows.types(s)) or "purchase" in rows.types(s)
    ]
    assert counts(f["store_visit_conversion"]) == (sum("purchase" in rows.types(s) for s in kept), len(kept))
    gave_up = sum(e.event == "assist_abandoned" for e in rows.c.events)
    helped = sum(e.event == "staff_assist" for e in rows.c.events)
    assert gave_up and counts(f["assist_giveup"]) == (gave_up, gave_up + helped)


def test_saturdays_returns_and_active_customers(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    in_weeks = [
        rows.c.local(rows.first[s].ts_ms) for s in rows.visits() if rows.day(rows.first[s].ts_ms) < 28
    ]
    assert counts(f["saturday_store_share"]) == (sum(t.weekday() == 5 for t in in_weeks), len(in_weeks))
    returned = {(e.journey, e.ts_ms) for e in rows.c.events if e.event in ("return", "exchange")}
    online = [e for e in rows.purchases if e.channel in ONLINE_SALES and rows.day(e.ts_ms) < 29 - 14]
    back = [e for e in online if any(j == e.journey and t > e.ts_ms for j, t in returned)]
    assert counts(f["online_return_rate"]) == (len(back), len(online)) and len(back) > 0
    came = [e for e in rows.first.values() if e.channel not in ("email", "sms", "push", "catalogue")]
    active = {(e.customer, rows.day(e.ts_ms)) for e in came if 0 <= rows.day(e.ts_ms) < 29}
    assert counts(f["active_customers_day"]) == (len(active), (40 + 300) * 29)


def test_messages_per_campaign(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    keyed: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for e in rows.c.events:
        if e.channel == "email" and e.campaign >= 0:
            keyed[e.event].add((e.customer, e.campaign))
    sent = keyed["message_sent"]
    assert counts(f["email_open_rate"]) == (len(keyed["message_opened"] & sent), len(sent))
    assert counts(f["email_click_rate"]) == (len(keyed["message_clicked"] & sent), len(sent))
    assert f["opens_follow_sends"].measure.value == 0 and f["opens_follow_sends"].verdict == INSIDE
    assert f["push_open_rate"].verdict == NOT_CHECKABLE  # no push campaign in these runs


def test_journey_flows_between_site_and_store(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    own, visits = rows.own_site(), rows.visits()

    def preceded(journey: int, at: int, sessions: list[int]) -> bool:
        first = rows.earliest(journey, sessions)
        return first is not None and first < at

    store_buys = [e for e in rows.purchases if e.channel in STORE_SALES]
    assert counts(f["ropo_journeys"]) == (
        sum(preceded(e.journey, e.ts_ms, own) for e in store_buys),
        len(store_buys),
    )
    own_buys = [e for e in rows.purchases if e.channel in OWN_SITE]
    assert counts(f["showrooming"]) == (
        sum(preceded(e.journey, e.ts_ms, visits) for e in own_buys),
        len(own_buys),
    )
    v = [rows.first[s] for s in visits]
    assert counts(f["web_to_store"]) == (sum(preceded(e.journey, e.ts_ms, own) for e in v), len(v))
    o = [rows.first[s] for s in own]
    assert counts(f["store_to_web"]) == (sum(preceded(e.journey, e.ts_ms, visits) for e in o), len(o))


def test_buyers_channels_and_purchase_frequency(month: tuple[Rows, dict[str, Finding]]) -> None:
    rows, f = month
    channels: dict[int, set[str]] = defaultdict(set)
    for e in rows.first.values():
        channels[e.customer].add(e.channel)
    buyers = {e.customer for e in rows.purchases}
    assert counts(f["several_channel_buyers"]) == (sum(len(channels[b]) >= 2 for b in buyers), len(buyers))
    visitors = {e.customer for s, e in rows.first.items() if e.channel in OWN_SITE}
    in_store = {e.customer for e in rows.purchases if e.customer in visitors and e.channel in STORE_SALES}
    online = {e.customer for e in rows.purchases if e.customer in visitors and e.channel in OWN_SITE}
    assert f["store_to_online_buyers"].measure.value == pytest.approx(len(in_store) / len(online))
    per_year = f["purchases_per_customer_year"]
    assert per_year.verdict == "input"
    assert per_year.measure.value == pytest.approx(len(rows.purchases) * 365 / 29 / 340)


# -- hand-built runs whose answer is known -------------------------------------------------------------

WEEK = {
    **{d: "10:00-19:00" for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "saturday": "09:30-19:30",
    "sunday": "closed",
}


@pytest.mark.parametrize(
    "week, sunday_visits, expected",
    [
        (WEEK, 0, INSIDE),
        (WEEK, 1, OUTSIDE),
        ({**WEEK, "monday": "closed"}, 2, OUTSIDE),
        ({**WEEK, "sunday": "10:00-13:00"}, 2, NOT_CHECKABLE),
        (None, 2, NOT_CHECKABLE),
    ],
    ids=["closed-empty", "closed-visited", "two-closed-days", "open-sunday", "same-hours-every-day"],
)
def test_store_visits_on_a_closed_day(
    tmp_path: Path, week: dict[str, str] | None, sunday_visits: int, expected: str
) -> None:
    stores = {"week": week} if week else {"opens": "09:00", "closes": "20:00"}
    b = Builder(start=MONDAY, days=7, scenario={"stores": stores})
    for day in range(6):
        b.session(1, "store", store(buy=True), day=day)
    for _ in range(sunday_visits):
        b.session(2, "store", store(buy=False), day=6)
    found = findings_of(b.finish(tmp_path / "week"))["closed_day_store_visits"]
    assert found.verdict == expected
    if expected != NOT_CHECKABLE:
        monday = 1 if week and week["monday"] == "closed" else 0  # Monday's visit counts then too
        assert counts(found) == (sunday_visits + monday, 6 + sunday_visits)


def test_opens_must_follow_their_sends(tmp_path: Path) -> None:
    b = Builder()
    b.session(1, "email", [("message_sent", {"campaign": 0}), ("message_opened", {"campaign": 0})])
    b.session(2, "email", [("message_opened", {"campaign": 0})])  # never sent to customer 2
    b.session(3, "email", [("message_opened", {"campaign": 1})])  # opened first...
    b.session(3, "email", [("message_sent", {"campaign": 1})])  # ...sent afterwards
    b.session(4, "email", [("message_sent", {"campaign": 0}), ("message_opened", {"campaign": 1})])
    b.session(5, "email", [("message_opened", {})])  # a journey that starts with an open, no send
    found = findings_of(b.finish(tmp_path / "mail"))
    assert found["opens_follow_sends"].verdict == OUTSIDE
    assert counts(found["opens_follow_sends"]) == (4, 5)  # of five opened keys, only (1, 0) was sent first
    # sent (1, 0), (3, 1), (4, 0); opened among them (1, 0) and (3, 1), whose order R15 flags
    assert counts(found["email_open_rate"]) == (2, 3)


def test_what_a_run_cannot_give_is_not_checkable_with_its_reason(tmp_path: Path) -> None:
    b = Builder(scenario={"integration": "multichannel", "demand": {"contacts_multiplier": 3.0}})
    b.session(1, "mobile_web", web(cart=True, buy=True))
    b.session(2, "phone", [("call_queued", {}), ("call_abandoned", {"wait_s": 30.0})])
    found = findings_of(b.finish(tmp_path / "peak"))
    assert "28 days" in found["online_revenue_share"].reason
    assert "crosschannel and omnichannel only" in found["click_collect_share"].reason
    assert "peak-demand" in found["call_abandonment"].reason
    assert "no campaign sent on email" in found["email_open_rate"].reason
    for key in ("online_revenue_share", "click_collect_share", "call_abandonment", "email_open_rate"):
        assert found[key].verdict == NOT_CHECKABLE


def test_a_pure_player_month_is_not_compared_with_store_chains(tmp_path: Path) -> None:
    b = Builder(start=MONDAY, days=28)
    for day in range(28):
        b.session(1, "mobile_app", web(cart=True, buy=True), day=day)
    found = findings_of(b.finish(tmp_path / "pure"))["online_revenue_share"]
    assert found.verdict == NOT_CHECKABLE and "pure player" in found.reason


# -- a real simulated day, against pyarrow group-bys over its Parquet files ------------------------------


def test_simulated_day_agrees_with_an_independent_computation(omni_run: Run) -> None:
    t = omni_run.events(["session_id", "channel", "event_type", "amount_cents"])
    t = t.set_column(1, "channel", t["channel"].cast(pa.string())).set_column(
        2, "event_type", t["event_type"].cast(pa.string())
    )
    own = t.filter(pc.is_in(t["channel"], pa.array(sorted(OWN_SITE))))
    own = own.filter(pc.invert(pc.is_in(own["event_type"], pa.array(sorted(COMPANY)))))

    def sessions_with(event: str) -> set[int]:
        return set(own.filter(pc.equal(own["event_type"], event))["session_id"].to_pylist())

    all_own, bought, carts = (
        set(own["session_id"].to_pylist()),
        sessions_with("purchase"),
        sessions_with("cart_add"),
    )
    basis, findings = assess_run(omni_run)
    found = {f.reference.key: f for f in findings}
    assert counts(found["online_session_conversion"]) == (len(bought), len(all_own))
    assert counts(found["cart_abandonment"]) == (len(carts - bought), len(carts))
    buys = t.filter(pc.equal(t["event_type"], "purchase"))
    online = buys.filter(pc.is_in(buys["channel"], pa.array(sorted(ONLINE_SALES))))
    revenue = (pc.sum(online["amount_cents"]).as_py() / 100, pc.sum(buys["amount_cents"]).as_py() / 100)
    assert found["online_revenue_share"].reason.startswith("needs a run of 28 days")  # one day: not checked
    assert (online_revenue_share(basis).numerator, online_revenue_share(basis).denominator) == pytest.approx(
        revenue
    )

    def n(event: str) -> int:
        return int(pc.sum(pc.equal(t["event_type"], event)).as_py())

    assert counts(found["call_abandonment"]) == (n("call_abandoned"), n("call_queued"))
    assert counts(found["assist_giveup"]) == (
        n("assist_abandoned"),
        n("assist_abandoned") + n("staff_assist"),
    )
