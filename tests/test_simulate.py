"""The simulation's invariants: determinism, stable customers, time, capacity, the file round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from parcours.output.reader import Run
from parcours.output.rundir import ParquetSink
from parcours.output.schema import EVENT_SCHEMA
from tests.support import simulate

START_TYPES = {
    "session_start",
    "store_enter",
    "call_queued",
    "chat_queued",
    "catalogue_read",
    "message_opened",
    "message_sent",
    "order_ready",
    "return",
    "exchange",
}
END_TYPES = {"session_end", "store_exit", "call_end", "chat_end", "call_abandoned", "chat_abandoned"}
#: sessions of one event, or that simply stop (reading a catalogue, an e-mail)
OPEN_ENDED = ["catalogue_read", "message_opened", "message_sent", "order_ready", "return", "exchange"]


def _events(run: Run) -> pa.Table:
    return run.events().drop_columns(["shard"])


def test_same_seed_gives_identical_events(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", customers=20000, seed=11)
    b = simulate(tmp_path / "b", customers=20000, seed=11)
    assert _events(a).num_rows > 5000
    assert _events(a).equals(_events(b))
    assert a.journeys().equals(b.journeys())
    assert a.customers().equals(b.customers())


def test_different_seed_gives_different_events(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", customers=20000, seed=11)
    b = simulate(tmp_path / "b", customers=20000, seed=12)
    assert not _events(a).equals(_events(b))
    personas_a = a.customers().column("persona").to_pylist()
    personas_b = b.customers().column("persona").to_pylist()
    assert personas_a != personas_b


def _by_customer(table: pa.Table, customers: int) -> pa.Table:
    keep = table.filter(pc.less(table.column("customer_id"), customers))
    return keep.sort_by([("customer_id", "ascending"), ("ts", "ascending"), ("session_id", "ascending")])


SELF_SERVICE = [
    "mobile_app",
    "mobile_web",
    "desktop_web",
    "tablet",
    "marketplace",
    "social",
    "catalogue",
    "email",
]


def test_adding_customers_leaves_existing_customers_days_unchanged(tmp_path: Path) -> None:
    """Customers 0..N-1 live the same day when more customers are added. What they do at a desk (how
    long they wait for an agent or for staff) may change, since the newcomers queue with them; what
    they do by themselves may not."""
    columns = [
        "customer_id",
        "ts",
        "session_id",
        "journey_id",
        "channel",
        "event_type",
        "product_id",
        "amount_cents",
        "visible_id",
    ]
    small = simulate(tmp_path / "small", customers=40000, seed=5).events(columns)
    large = simulate(tmp_path / "large", customers=60000, seed=5).events(columns)

    def self_service(t: pa.Table) -> pa.Table:
        mask = pc.is_in(t.column("channel").cast(pa.string()), pa.array(SELF_SERVICE))
        return _by_customer(t.filter(mask), 40000)

    a, b = self_service(small), self_service(large)
    assert a.num_rows > 10_000
    assert a.equals(b)
    # the desks' customers first arrive at the same moments, whatever happens to them after
    # (a call-back, though, follows an abandoned call, and abandoning depends on the queue)
    arrivals = ["call_queued", "chat_queued", "store_enter"]

    def arrivals_of(t: pa.Table) -> pa.Table:
        first_try = pc.less(pc.bit_wise_and(t.column("session_id"), 63), 12)
        arrival = pc.is_in(t.column("event_type").cast(pa.string()), pa.array(arrivals))
        return _by_customer(t.filter(pc.and_(first_try, arrival)), 40000)

    assert arrivals_of(small).equals(arrivals_of(large))


def test_timestamps_never_go_back_within_a_customer_or_a_session(omni_run: Run) -> None:
    for part in omni_run.event_parts:
        t = pq.read_table(part, columns=["seq", "ts", "customer_id", "session_id", "event_type"])
        seq = t.column("seq").to_numpy()
        assert (np.diff(seq) == 1).all(), "each part is in seq order"
        ts = t.column("ts").cast(pa.int64()).to_numpy()
        assert (np.diff(ts) >= 0).all(), "each part is sorted by time"
        # within every session, the first event opens it and the last one closes it
        order = np.lexsort((seq, t.column("session_id").to_numpy()))
        sid = t.column("session_id").to_numpy()[order]
        types = np.array(t.column("event_type").cast(pa.string()).to_pylist())[order]
        first = np.r_[True, sid[1:] != sid[:-1]]
        last = np.r_[sid[1:] != sid[:-1], True]
        assert set(types[first]) <= START_TYPES
        closing = types[last]
        opened_by = types[first]
        open_ended = np.isin(opened_by, OPEN_ENDED)
        assert set(closing[~open_ended]) <= END_TYPES


def test_every_event_lies_inside_the_simulated_days(week_run: Run) -> None:
    ts = week_run.events(["ts"]).column("ts")
    start = pa.scalar(week_run.manifest.start).cast(pa.timestamp("ms", tz="UTC"))
    end = pa.scalar(week_run.manifest.end).cast(pa.timestamp("ms", tz="UTC"))
    assert pc.min(ts).as_py() >= start.as_py()
    assert pc.max(ts).as_py() < end.as_py()
    assert (end.as_py() - start.as_py()).days == 7
    # and the days are used: events on each of the seven local dates
    local = ts.cast(pa.timestamp("ms", tz="Europe/Paris"))
    assert len(pc.unique(pc.day_of_week(local))) == 7


def _max_concurrent(starts: np.ndarray, ends: np.ndarray) -> int:
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((deltas, times))  # at equal times, a call ends before the next one starts
    return int(np.cumsum(deltas[order]).max()) if len(times) else 0


@pytest.mark.parametrize(
    ("answered", "end", "agents_key"),
    [
        ("call_answered", "call_end", "phone_agents"),
        ("chat_answered", "chat_end", "chat_agents"),
    ],
)
def test_call_centre_never_serves_more_at_once_than_it_has_agents(
    tmp_path: Path, answered: str, end: str, agents_key: str
) -> None:
    run = simulate(tmp_path / "busy", "omnichannel", customers=60000, seed=3)
    t = run.events(["session_id", "ts", "event_type"])
    types = t.column("event_type").cast(pa.string())

    def times(kind: str) -> tuple[np.ndarray, np.ndarray]:
        sub = t.filter(pc.equal(types, kind)).sort_by("session_id")
        return sub.column("session_id").to_numpy(), sub.column("ts").cast(pa.int64()).to_numpy()

    sid_a, start = times(answered)
    sid_e, stop = times(end)
    assert len(sid_a) > 50 and (sid_a == sid_e).all()
    agents = getattr(run.manifest.resources, agents_key)
    busiest = _max_concurrent(start, stop)
    assert 1 <= busiest <= agents
    waits = t.filter(pc.equal(types, answered))
    assert waits.num_rows == len(sid_a)


def test_write_then_read_returns_the_same_table(tmp_path: Path, omni_run: Run) -> None:
    original = omni_run.events()
    path = tmp_path / "copy.parquet"
    with ParquetSink(path, EVENT_SCHEMA, row_group_rows=10_000) as sink:
        for batch in original.to_batches(max_chunksize=7_000):
            sink.write(batch)
    again = pq.read_table(path)
    assert pq.ParquetFile(path).num_row_groups > 1
    assert again.schema.equals(EVENT_SCHEMA, check_metadata=True)
    assert again.equals(original)


@pytest.mark.parametrize("background", [False, True])
def test_row_groups_built_by_the_writer_keep_their_rows_and_order(
    tmp_path: Path, omni_run: Run, background: bool
) -> None:
    original = omni_run.events()
    path = tmp_path / "groups.parquet"
    batches = original.to_batches(max_chunksize=3_000)
    with ParquetSink(path, EVENT_SCHEMA, row_group_rows=10_000, background=background) as sink:
        sink.write(batches[0])  # a batch given to write first keeps its own row group
        for i in range(1, len(batches), 4):
            group = batches[i : i + 4]
            sink.write_group(sum(b.num_rows for b in group), lambda group=group: group)
    file = pq.ParquetFile(path)
    sizes = [file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)]
    assert sizes[0] == batches[0].num_rows and len(sizes) == 1 + -(-(len(batches) - 1) // 4)
    assert sink.rows == original.num_rows == sum(sizes)
    assert pq.read_table(path).equals(original)


def test_an_error_building_a_row_group_is_raised_by_close(tmp_path: Path) -> None:
    def broken() -> list[pa.RecordBatch]:
        raise ValueError("no batch")

    sink = ParquetSink(tmp_path / "broken.parquet", EVENT_SCHEMA, background=True)
    sink.write_group(1, broken)
    with pytest.raises(ValueError, match="no batch"):
        sink.close()


def test_every_event_shows_its_journeys_customer_and_persona(omni_run: Run) -> None:
    # the events carry only their journey's row to the writer, which looks up whose journey it is: each
    # event's customer and persona are those its journey's row in the journeys part gives
    events = omni_run.events(["journey_id", "customer_id", "persona"])
    journeys = omni_run.journeys(["journey_id", "customer_id", "persona"])
    owner = {
        j: (c, p)
        for j, c, p in zip(*(journeys.column(n).to_pylist() for n in journeys.column_names), strict=True)
    }
    shown = zip(*(events.column(n).to_pylist() for n in events.column_names), strict=True)
    assert events.num_rows > 0
    assert all(owner[j] == (c, p) for j, c, p in shown)


def test_event_ids_are_unique_and_counts_match_the_manifest(omni_run: Run) -> None:
    t = omni_run.events(["event_id", "journey_id"])
    assert len(pc.unique(t.column("event_id"))) == t.num_rows == omni_run.manifest.counts.events
    journeys = omni_run.journeys()
    assert journeys.num_rows == omni_run.manifest.counts.journeys
    assert set(pc.unique(t.column("journey_id")).to_pylist()) == set(
        journeys.column("journey_id").to_pylist()
    )
    counts = omni_run.manifest.counts
    assert counts.customers == sum(omni_run.manifest.customers_by_persona.values()) == 60000
    # the ground truth lists the customers with an event, and only them (the file is in the manifest)
    acted = pc.unique(omni_run.events(["customer_id"]).column("customer_id"))
    listed = omni_run.customers(["customer_id"]).column("customer_id")
    assert sorted(listed.to_pylist()) == sorted(acted.to_pylist())
    assert len(listed) == counts.customers_listed < 60000


def test_purchases_less_refunds_match_journey_revenue(omni_run: Run) -> None:
    t = omni_run.events(["journey_id", "event_type", "amount_cents"])
    types = t.column("event_type").cast(pa.string())
    bought = t.filter(pc.equal(types, "purchase"))
    refunded = t.filter(pc.equal(types, "return"))
    revenue = pc.sum(bought.column("amount_cents")).as_py() - (
        pc.sum(refunded.column("amount_cents")).as_py() or 0
    )
    journeys = omni_run.journeys()
    assert revenue == pc.sum(journeys.column("revenue_cents")).as_py() > 0
    outcome = journeys.column("outcome").cast(pa.string())
    ended_with_a_sale = pc.sum(pc.is_in(outcome, pa.array(["bought", "returned"]))).as_py()
    assert ended_with_a_sale == len(pc.unique(bought.column("journey_id")))
    assert pc.sum(pc.equal(outcome, "returned")).as_py() == len(pc.unique(refunded.column("journey_id")))


def test_parts_are_the_same_bytes_encoded_on_writer_threads_or_inline(tmp_path: Path) -> None:
    """Where shards write on threads or in their own thread is a matter of cores, never of content."""
    from parcours.simulator.run.options import Execution, Overrides
    from parcours.simulator.run.simulate import simulate_run

    overrides = Overrides(customers=40_000, seed=7, days=2)
    runs = {}
    for threads in (True, False):
        out = tmp_path / f"threads-{threads}"
        simulate_run("omnichannel", overrides, out, Execution(workers=1, shards=2), threads=threads)
        runs[threads] = out
    parts = sorted(p.relative_to(runs[True]) for p in runs[True].rglob("*.parquet"))
    assert len(parts) == 6  # events, customers, journeys of two shards
    for part in parts:
        assert (runs[True] / part).read_bytes() == (runs[False] / part).read_bytes(), part


def test_shards_write_on_threads_only_where_a_core_is_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    import parcours.simulator.run.simulate as simulate_module
    from parcours.simulator.run.options import Execution

    monkeypatch.setattr(simulate_module, "cores", lambda: 2)
    spare = simulate_module.writer_threads
    assert spare(Execution(workers=1), shards=1) and spare(Execution(workers=2), shards=1)
    assert not spare(Execution(workers=2), shards=2) and not spare(Execution(workers=4), shards=20)
    monkeypatch.setattr(simulate_module, "cores", lambda: 8)
    assert spare(Execution(workers=4), shards=20)
