"""The replay clock: windows, idle gaps, the plan's figures, and each worker's share of the events."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.errors import ParcoursError
from parcours.loadtests import mapping as mappings
from parcours.loadtests.feed import Share, ShareReader
from parcours.loadtests.schedule import (
    TimeMap,
    build_time_map,
    make_schedule,
    parse_duration_s,
    parse_window,
)
from parcours.output.reader import Run
from parcours.vocabulary import EventType
from tests.replay_support import T0_MS, make_run


def test_windows_parse() -> None:
    w = parse_window("12:00-14:30")
    assert (w.start_s, w.end_s) == (12 * 3600, 14 * 3600 + 1800)
    assert str(w) == "12:00-14:30"
    assert parse_window("00:00-24:00").end_s == 86400


@pytest.mark.parametrize(
    "text", ["12:00", "14:00-12:00", "25:00-26:00", "12:60-13:00", "noon-1pm", "12:00-12:00"]
)
def test_a_bad_window_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(ParcoursError, match="^--window: "):
        parse_window(text)


def test_durations_parse() -> None:
    assert [parse_duration_s(t, "--max-gap") for t in ("300", "300s", "5m", "1h", "250ms")] == [
        300,
        300,
        300,
        3600,
        0.25,
    ]
    with pytest.raises(ParcoursError, match="^--max-gap: "):
        parse_duration_s("-5m", "--max-gap")


def test_max_gap_cuts_only_the_excess_of_long_idle_stretches() -> None:
    ts = np.array([0, 1_000, 61_000, 62_000, 662_000], np.int64)
    tm = build_time_map(ts, [], max_gap_ms=10_000)
    assert tm.offset_ms(ts).tolist() == [0, 1_000, 11_000, 12_000, 22_000]
    assert build_time_map(ts, [], None).offset_ms(ts).tolist() == ts.tolist()


def test_windows_keep_their_hours_and_drop_the_nights() -> None:
    day = 86_400_000
    windows = [(12 * 3_600_000, 14 * 3_600_000), (day + 12 * 3_600_000, day + 14 * 3_600_000)]
    ts = np.array([12 * 3_600_000, 13 * 3_600_000, day + 12 * 3_600_000, day + 13 * 3_600_000], np.int64)
    tm = build_time_map(ts, windows, None)
    assert tm.in_window(ts).all()
    assert not tm.in_window(np.array([11 * 3_600_000, 14 * 3_600_000, day], np.int64)).any()
    assert tm.offset_ms(ts).tolist() == [0, 3_600_000, 7_200_000, 10_800_000]
    assert TimeMap.from_dict(tm.to_dict()) == tm


def test_the_plan_counts_and_times_what_will_be_sent(tmp_path: Path) -> None:
    types = (EventType.PAGE_VIEW, EventType.STOCK_OUT)  # the ingest mapping sends both, reference too
    make_run(tmp_path / "run", customers=10, events=6, span_s=60, types=types)
    run = Run(tmp_path / "run")
    plan = make_schedule(run, mappings.load("ingest"), speed=10)
    assert (plan.events_in_file, plan.requests, plan.unmapped) == (60, 60, {})
    # customer 9's last event: 50 s + 9 * 37 ms after the first, at speed 10
    assert plan.duration_s == pytest.approx(5.0333, abs=1e-3)
    assert plan.peak_rps == 10 and plan.mean_rps == 10 and plan.workers_needed == 1


def test_the_plan_skips_and_counts_unmapped_types(tmp_path: Path) -> None:
    only_login = tmp_path / "m.toml"
    only_login.write_text('name = "m"\n[requests.page_view]\npath = "/p"\n')
    make_run(tmp_path / "run", customers=4, events=4, types=(EventType.PAGE_VIEW, EventType.LOGIN))
    plan = make_schedule(Run(tmp_path / "run"), mappings.load(str(only_login)), speed=1)
    assert plan.requests == 8 and plan.unmapped == {"login": 8}


def test_a_window_is_read_in_the_run_time_zone(tmp_path: Path) -> None:
    # T0 is 10:00 UTC = 11:00 in Paris; events every 10 minutes over two hours
    make_run(tmp_path / "run", customers=1, events=12, span_s=7200, timezone="Europe/Paris")
    run = Run(tmp_path / "run")
    plan = make_schedule(run, mappings.load("ingest"), speed=1, window=parse_window("12:00-12:30"))
    assert plan.requests == 3  # 12:00, 12:10, 12:20 Paris time
    assert plan.time_map.first_ms == T0_MS + 3_600_000
    with pytest.raises(ParcoursError, match="^--window: no event"):
        make_schedule(run, mappings.load("ingest"), speed=1, window=parse_window("03:00-04:00"))


def _replayed(run: Run, share: Share, speed: float = 1.0) -> list[tuple[int, int, float]]:
    mapping = mappings.load("ingest")
    plan = make_schedule(run, mapping, speed=speed)
    parts = run.event_parts
    rows = []
    for p in share.parts(len(parts)):
        reader = ShareReader(parts[p], share, share.by_customer(len(parts)), mapping, plan.time_map, speed)
        for chunk in reader:
            rows += zip(chunk.customer, chunk.event_id, chunk.offset_s, strict=True)
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.integers(1, 30), parts=st.integers(1, 4), workers=st.integers(1, 4))
def test_shares_hold_every_event_once_and_whole_customers_in_order(
    tmp_path_factory: pytest.TempPathFactory, customers: int, parts: int, workers: int
) -> None:
    out = tmp_path_factory.mktemp("run") / "run"
    events = make_run(out, customers=customers, events=5, parts=parts)
    run = Run(out)
    seen: Counter[int] = Counter()
    owner: dict[int, int] = {}
    for index in range(workers):
        rows = _replayed(run, Share(workers, index))
        for customer, event_id, _ in rows:
            seen[event_id] += 1
            assert owner.setdefault(customer, index) == index  # a customer never spans two workers
        for customer in {c for c, _, _ in rows}:
            mine = [e for c, e, _ in rows if c == customer]
            assert mine == events.ids_of(customer)  # in the customer's order
    assert seen == Counter(list(events.customer))  # every event, once


def test_offsets_are_simulated_time_over_speed(tmp_path: Path) -> None:
    events = make_run(tmp_path / "run", customers=3, events=4, span_s=40)
    rows = _replayed(Run(tmp_path / "run"), Share(), speed=4)
    first = min(events.ts_ms.values())
    for _, event_id, offset in rows:
        assert offset == pytest.approx((events.ts_ms[event_id] - first) / 1000 / 4)
