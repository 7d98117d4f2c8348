"""Shards: deterministic for a seed and shard count, whole customers, the same run wherever they execute.

The runs use a scenario with small stores (1,200 customers each) so that 6,000 customers make five
stores and every shard of a run cut in two to five holds customers who act; every invariant test of
test_simulate.py also runs on a two-worker run through the ``omni_run`` fixture.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import parcours.simulator.run.shard as shard_module
from parcours.errors import ParcoursError
from parcours.output.reader import Run
from parcours.scenarios import BUILTIN_DIR
from parcours.simulator.model.population import draw_customers, shard_ids, shard_of
from parcours.simulator.model.rng import Streams
from parcours.simulator.run.options import Execution, Overrides
from parcours.simulator.run.shard import SEQ_BITS
from parcours.simulator.run.simulate import SHARD_CUSTOMERS, default_shards, resolve, simulate_run
from parcours.vocabulary import OUTBOUND_CHANNELS
from tests.support import run_main

CUSTOMERS = 6000
PER_STORE = 1200
SEED = 3


@pytest.fixture(scope="module")
def small_stores(tmp_path_factory: pytest.TempPathFactory) -> str:
    text = (BUILTIN_DIR / "omnichannel.toml").read_text()
    text, found = re.subn(r"(?m)^customers_per_store = \d+$", f"customers_per_store = {PER_STORE}", text)
    assert found == 1, "the omnichannel scenario no longer says customers_per_store; update this fixture"
    path = tmp_path_factory.mktemp("scenario") / "small_stores.toml"
    path.write_text(text.replace('name = "omnichannel"', 'name = "small_stores"'))
    return str(path)


def _simulate(scenario: str, out: Path, workers: int, **options: Any) -> Run:
    simulate_run(scenario, Overrides(customers=CUSTOMERS, seed=SEED), out, Execution(workers, **options))
    return Run(out)


@pytest.fixture(scope="module")
def runs(small_stores: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The same seed throughout: one worker (one shard); two workers (two shards); three shards run by
    one process and by two."""
    root = tmp_path_factory.mktemp("scale")
    return {
        "w1": _simulate(small_stores, root / "w1", 1),
        "w2": _simulate(small_stores, root / "w2", 2),
        "s3_w1": _simulate(small_stores, root / "s3_w1", 1, shards=3),
        "s3_w2": _simulate(small_stores, root / "s3_w2", 2, shards=3),
    }


def _part(path: Path, *columns: str) -> pa.Table:
    return pq.read_table(path, columns=list(columns) or None)


def _files(run: Run) -> dict[Path, bytes]:
    return {p.relative_to(run.path): p.read_bytes() for p in run.path.rglob("*.parquet")}


def test_same_seed_and_shard_count_give_the_same_bytes_whatever_the_processes(runs: dict[str, Run]) -> None:
    one, two = runs["s3_w1"], runs["s3_w2"]
    assert one.manifest.shards == two.manifest.shards == 3
    assert len(one.event_parts) == len(one.customer_parts) == len(one.journey_parts) == 3
    files = _files(one)
    assert len(files) == 9 and all(_part(one.path / f).num_rows > 0 for f in files)
    assert files == _files(two), "a shard's parts depend on the seed and shard count, not on who ran it"
    assert one.manifest.counts == two.manifest.counts
    assert one.manifest.customers_by_persona == two.manifest.customers_by_persona


def test_the_shard_count_defaults_to_one_per_shard_size_and_at_least_one_per_worker(
    runs: dict[str, Run],
) -> None:
    assert runs["w1"].manifest.shards == 1 and runs["w2"].manifest.shards == 2
    assert default_shards(30_000_000, 2) == -(-30_000_000 // SHARD_CUSTOMERS) > 2
    assert default_shards(30_000_000, 2) == default_shards(30_000_000, 1), "not a function of workers"
    assert default_shards(SHARD_CUSTOMERS + 1, 1) == 2 and default_shards(10, 4) == 4
    assert default_shards(10, 4, stores=1) == 1, "never more shards than stores by default"


def test_more_shards_than_stores_is_refused_in_one_line(small_stores: str, tmp_path: Path) -> None:
    """A shard holds whole stores: --shards above the store count would only write empty parts."""
    with pytest.raises(ParcoursError, match=r"--shards: 7 shards for 6,000 customers in 5 store"):
        _simulate(small_stores, tmp_path / "seven", 2, shards=7)
    assert not (tmp_path / "seven").exists()


def test_shards_hold_whole_stores_and_every_customer_once() -> None:
    total, per_store, shards = 10_050, 300, 4  # a last store only half full
    parts = [shard_ids(total, per_store, shards, k) for k in range(shards)]
    every = np.concatenate(parts)
    assert np.array_equal(np.sort(every), np.arange(total))
    for k, ids in enumerate(parts):
        assert (np.diff(ids) > 0).all()
        assert (shard_of(ids, per_store, shards) == k).all()
        stores = np.unique(ids // per_store)
        full = np.minimum((stores + 1) * per_store, total) - stores * per_store
        assert len(ids) == full.sum(), "a shard holds every customer of each of its stores"


def test_two_workers_hold_the_same_customers_as_one(runs: dict[str, Run]) -> None:
    one, two = runs["w1"], runs["w2"]
    assert one.manifest.counts.customers == two.manifest.counts.customers == CUSTOMERS
    assert one.manifest.customers_by_persona == two.manifest.customers_by_persona
    assert sum(one.manifest.customers_by_persona.values()) == CUSTOMERS
    # a customer is the same person whatever the shard count: same persona, store, identities
    a, b = (r.customers().drop_columns(["shard"]) for r in (one, two))
    both = set(a.column("customer_id").to_pylist()) & set(b.column("customer_id").to_pylist())
    assert len(both) > 100, "too few customers act in both runs for the comparison to show anything"
    chosen = pa.array(sorted(both))
    by_id = [("customer_id", "ascending")]

    def common(t: pa.Table) -> pa.Table:
        return t.filter(pc.is_in(t.column("customer_id"), chosen)).sort_by(by_id).combine_chunks()

    assert common(a).to_pylist() == common(b).to_pylist()


def test_customers_parts_list_exactly_the_customers_with_an_event(runs: dict[str, Run]) -> None:
    run = runs["s3_w2"]
    counts = run.manifest.counts
    listed_total = 0
    for shard, (events, customers) in enumerate(zip(run.event_parts, run.customer_parts, strict=True)):
        acted = set(pc.unique(_part(events, "customer_id").column("customer_id")).to_pylist())
        listed = _part(customers)
        ids = listed.column("customer_id").to_pylist()
        assert ids == sorted(acted), f"shard {shard}: the customers part is the shard's customers with events"
        assert pc.all(pc.equal(listed.column("shard"), shard)).as_py()
        listed_total += len(ids)
    assert listed_total == counts.customers_listed == run.customers().num_rows
    assert counts.customers_listed < counts.customers == CUSTOMERS, "some customers did nothing"


def test_no_customer_is_in_two_shards_and_each_shard_holds_whole_customers(runs: dict[str, Run]) -> None:
    run = runs["s3_w2"]
    owners: dict[int, int] = {}
    journeys = run.journeys()
    for shard, part in enumerate(run.event_parts):
        t = _part(part, "customer_id", "journey_id", "shard")
        assert pc.all(pc.equal(t.column("shard"), shard)).as_py()
        ids = set(pc.unique(t.column("customer_id")).to_pylist())
        assert ids, f"shard {shard} is empty: the test would not show anything"
        assert not ids & owners.keys(), "a customer has events in two parts"
        owners.update(dict.fromkeys(ids, shard))
        # journeys do not cross parts either, so a customer's every journey is in its shard's part
        mine = _part(run.journey_parts[shard], "journey_id", "shard")
        assert pc.all(pc.equal(mine.column("shard"), shard)).as_py()
        assert set(pc.unique(t.column("journey_id")).to_pylist()) == set(
            mine.column("journey_id").to_pylist()
        )
    assert journeys.num_rows == run.manifest.counts.journeys
    customers = run.customers()
    shard_of_customer = dict(
        zip(customers.column("customer_id").to_pylist(), customers.column("shard").to_pylist(), strict=True)
    )
    assert all(shard_of_customer[c] == s for c, s in owners.items()), "customers name the customer's part"
    # whole stores: a store's staff and its customers live in one shard
    stores = customers.group_by("home_store_id").aggregate([("shard", "count_distinct")])
    assert pc.max(stores.column("shard_count_distinct")).as_py() == 1


def test_parts_are_sorted_by_time_and_seq_and_event_ids_are_unique(runs: dict[str, Run]) -> None:
    run = runs["s3_w2"]
    all_ids = []
    for shard, part in enumerate(run.event_parts):
        t = _part(part, "event_id", "seq", "ts")
        seq = t.column("seq").to_numpy()
        ts = t.column("ts").cast(pa.int64()).to_numpy()
        assert (seq == np.arange(len(seq))).all()
        assert (np.diff(ts) >= 0).all()
        ids = t.column("event_id").to_numpy()
        assert (ids == (shard << SEQ_BITS) | seq).all()
        all_ids.append(ids)
    ids = np.concatenate(all_ids)
    assert len(np.unique(ids)) == len(ids) == run.manifest.counts.events


# --- memory follows the shard: checked through a run's structure, not its timing ----------------------


def test_one_process_draws_simulates_and_writes_one_shard_at_a_time(
    small_stores: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shard draws only its own customers, and only once the shards before it are written."""
    drawn: list[tuple[int, list[str]]] = []
    real = shard_module.draw_customers
    partial = tmp_path / f".run.partial-{os.getpid()}"

    def watched(model: Any, streams: Any, ids: np.ndarray) -> Any:
        written = sorted(str(p.relative_to(partial)) for p in partial.rglob("*.parquet"))
        drawn.append((len(ids), written))
        return real(model, streams, ids)

    monkeypatch.setattr(shard_module, "draw_customers", watched)
    run = _simulate(small_stores, tmp_path / "run", 1, shards=5)
    assert [n for n, _ in drawn] == [PER_STORE] * 5, "one store's customers at a time, never the file's"
    for k, (_, written) in enumerate(drawn):
        finished = {
            f"{d}/part-{s:05d}.parquet" for s in range(k) for d in ("events", "customers", "journeys")
        }
        assert set(written) == finished, f"shard {k} started before the earlier ones were written"
    assert run.manifest.counts.customers == CUSTOMERS and len(run.event_parts) == 5


def test_a_campaign_draws_one_channel_of_opt_ins_with_the_values_of_the_whole_matrix() -> None:
    """Sends draw one opt-in column (and the app only for the rows still in): the same customers."""
    model = resolve("omnichannel", Overrides(customers=5000, seed=SEED))
    ids = np.arange(5000, dtype=np.int64)
    alone, whole = (draw_customers(model, Streams(SEED), ids) for _ in range(2))
    for k in range(len(OUTBOUND_CHANNELS)):
        assert np.array_equal(alone.opted_in(k), whole.opt_in[:, k])
    rows = np.flatnonzero(whole.opt_in[:, 0])
    assert np.array_equal(alone.app_at(rows), whole.app[rows])
    assert "opt_in" not in alone.__dict__ and "app" not in alone.__dict__  # never drawn whole
    assert 0 < len(rows) < len(ids)


def test_worker_processes_take_more_shards_than_there_are_processes_and_the_parent_draws_none(
    small_stores: str, runs: dict[str, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []
    real = shard_module.draw_customers

    def watched(model: Any, streams: Any, ids: np.ndarray) -> Any:
        drawn.append(len(ids))
        return real(model, streams, ids)

    monkeypatch.setattr(shard_module, "draw_customers", watched)  # seen in this process only
    run, seen = _recorded(small_stores, tmp_path / "run", 2, shards=5)
    assert drawn == [], "the parent process held customers; only the worker processes should"
    assert len(run.event_parts) == 5 and run.manifest.counts.customers == CUSTOMERS
    assert {p.name for p in run.customer_parts} == {f"part-{s:05d}.parquet" for s in range(5)}
    _assert_progress_is_exact(run, seen)


# --- readers --------------------------------------------------------------------------------------------


def test_readers_read_parts_in_shard_order_and_the_single_files_of_earlier_runs(
    runs: dict[str, Run], tmp_path: Path
) -> None:
    run = runs["s3_w2"]
    expected = pa.concat_tables([_part(p) for p in run.customer_parts])
    assert run.customers().to_pylist() == expected.to_pylist()
    assert run.customers(["customer_id"]).column_names == ["customer_id"]
    old = tmp_path / "old"
    shutil.copytree(run.path, old)
    for name in ("customers", "journeys"):
        pq.write_table(
            pa.concat_tables([_part(p) for p in sorted((old / name).glob("*.parquet"))]),
            old / f"{name}.parquet",
        )
        shutil.rmtree(old / name)
    earlier = Run(old)
    assert earlier.customers().to_pylist() == run.customers().to_pylist()
    assert earlier.journeys().to_pylist() == run.journeys().to_pylist()


def test_the_report_counts_every_shard_s_journeys(
    runs: dict[str, Run], capsys: pytest.CaptureFixture[str]
) -> None:
    run = runs["s3_w2"]
    code, out, err = run_main(["report", str(run.path), "--format", "json"], capsys)
    assert code == 0, err
    typology = json.loads(out)["runs"][0]["typology"]
    journeys = run.journeys(["customer_id", "channels"])
    # a customer-day counts when one of its journeys touched a channel in the run (research begun before
    # the run may reach into it without a session inside it)
    touched = journeys.filter(pc.greater(pc.list_value_length(journeys.column("channels")), 0))
    assert sum(t["customer_days"] for t in typology.values()) == len(pc.unique(touched.column("customer_id")))
    assert len({_part(p, "shard").column("shard")[0].as_py() for p in run.journey_parts}) == 3


def _recorded(
    small_stores: str, out: Path, workers: int, **options: Any
) -> tuple[Run, list[tuple[float, int]]]:
    seen: list[tuple[float, int]] = []

    def on_progress(sim_s: float, horizon_s: float, events: int) -> None:
        seen.append((sim_s, events))

    simulate_run(
        small_stores,
        Overrides(customers=CUSTOMERS, seed=SEED),
        out,
        Execution(workers, **options),
        on_progress=on_progress,
    )
    return Run(out), seen


def _assert_progress_is_exact(run: Run, seen: list[tuple[float, int]]) -> None:
    clock, events = np.array([s for s, _ in seen]), np.array([e for _, e in seen])
    assert len(seen) > 10
    assert (np.diff(clock) >= 0).all() and (np.diff(events) >= 0).all(), "the display never goes back"
    horizon = 86_400.0
    assert clock[-1] == horizon and events[-1] == run.manifest.counts.events
    # the combined clock reaches the end only once every shard's events are counted (a quiet night may
    # leave the count final a little before the clock ends)
    assert (clock[events < events[-1]] < horizon).all()


def test_progress_with_two_workers_is_one_exact_display(small_stores: str, tmp_path: Path) -> None:
    _assert_progress_is_exact(*_recorded(small_stores, tmp_path / "run", 2))


# --- the Dask executor, on a real local cluster (loopback only) ---------------------------------------


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_executor_writes_the_same_run_as_local_processes(
    small_stores: str, dask_scheduler: str, runs: dict[str, Run], tmp_path: Path
) -> None:
    on_dask, seen = _recorded(
        small_stores, tmp_path / "dask", 2, shards=3, executor="dask", scheduler=dask_scheduler
    )
    assert _files(on_dask) == _files(runs["s3_w2"]), "three shards as tasks: the same bytes"
    _assert_progress_is_exact(on_dask, seen)


def test_executor_dask_alone_starts_a_local_cluster(
    small_stores: str, runs: dict[str, Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "run"
    args = ["simulate", "-s", small_stores, "-n", str(CUSTOMERS), "--seed", str(SEED), "-o", str(out)]
    code, _, err = run_main([*args, "--executor", "dask", "--workers", "2", "--no-progress"], capsys)
    assert code == 0, err
    assert Run(out).customers().equals(runs["w2"].customers())
    assert Run(out).events().equals(runs["w2"].events())


# --- mistakes: one line naming the argument, exit code 2, nothing on disk damaged -------------------


@pytest.fixture()
def existing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run"
    assert run_main(["simulate", "-n", "100", "--seed", "1", "-o", str(out), "--no-progress"], capsys)[0] == 0
    return out


def _assert_refused(
    args: list[str], named: str, existing_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p.relative_to(existing_run): p.read_bytes() for p in existing_run.rglob("*") if p.is_file()}
    code, _, err = run_main(
        ["simulate", "-n", "100", "-o", str(existing_run), "--overwrite", "--no-progress", *args], capsys
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and named in err and "Traceback" not in err, err
    after = {p.relative_to(existing_run): p.read_bytes() for p in existing_run.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in existing_run.parent.iterdir()) == [existing_run.name], "no leftovers"


@pytest.mark.parametrize("shards", ["0", "-2"])
def test_a_shard_count_below_one_is_refused(
    shards: str, existing_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_refused(["--shards", shards], "--shards", existing_run, capsys)


def test_an_unknown_executor_is_refused(existing_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_refused(["--executor", "nope"], "--executor", existing_run, capsys)


def test_a_scheduler_without_the_dask_executor_is_refused(
    existing_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_refused(["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler", existing_run, capsys)


def test_an_unreachable_scheduler_is_refused(existing_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dask = pytest.importorskip("dask")
    with socket.socket() as s:  # a port nothing listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        args = ["--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"]
        _assert_refused(args, "--scheduler", existing_run, capsys)


def test_the_dask_executor_without_dask_installed_is_refused(
    existing_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what a missing package does
    _assert_refused(["--executor", "dask"], "--executor dask", existing_run, capsys)
