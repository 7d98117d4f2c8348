"""Shards: deterministic for a seed and shard count, whole customers, the same run wherever they execute.

The runs use a scenario with small stores (3,000 customers each) so that 15,000 customers make five
stores and both shards of a two-worker run hold customers; every invariant test of test_simulate.py
also runs on a two-worker run through the ``omni_run`` fixture.
"""

from __future__ import annotations

import re
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

from parcours.output.reader import Run
from parcours.scenarios import BUILTIN_DIR
from parcours.simulator.run import Overrides, simulate_run
from parcours.simulator.shard import SEQ_BITS
from tests.support import run_main

CUSTOMERS = 15_000  # about 5% of a customer file acts on a day
SEED = 3


@pytest.fixture(scope="module")
def small_stores(tmp_path_factory: pytest.TempPathFactory) -> str:
    text = (BUILTIN_DIR / "omnichannel.toml").read_text()
    text, found = re.subn(r"(?m)^customers_per_store = \d+$", "customers_per_store = 3000", text)
    assert found == 1, "the omnichannel scenario no longer says customers_per_store; update this fixture"
    path = tmp_path_factory.mktemp("scenario") / "small_stores.toml"
    path.write_text(text.replace('name = "omnichannel"', 'name = "small_stores"'))
    return str(path)


def _simulate(scenario: str, out: Path, workers: int, **options: Any) -> Run:
    simulate_run(scenario, Overrides(customers=CUSTOMERS, seed=SEED), out, workers=workers, **options)
    return Run(out)


@pytest.fixture(scope="module")
def runs(small_stores: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """One worker; two workers, twice; the same seed throughout."""
    root = tmp_path_factory.mktemp("scale")
    return {
        "w1": _simulate(small_stores, root / "w1", 1),
        "w2": _simulate(small_stores, root / "w2", 2),
        "w2_again": _simulate(small_stores, root / "w2_again", 2),
    }


def _part(path: Path, *columns: str) -> pa.Table:
    return pq.read_table(path, columns=list(columns) or None)


def test_same_seed_and_shards_give_identical_output(runs: dict[str, Run]) -> None:
    a, b = runs["w2"], runs["w2_again"]
    assert len(a.event_parts) == len(b.event_parts) == 2
    for part_a, part_b in zip(a.event_parts, b.event_parts, strict=True):
        assert _part(part_a).num_rows > 1000
        assert _part(part_a).equals(_part(part_b))
    assert a.customers().equals(b.customers())
    assert a.journeys().equals(b.journeys())
    assert a.manifest["counts"] == b.manifest["counts"]


def test_two_workers_hold_the_same_customers_as_one(runs: dict[str, Run]) -> None:
    one, two = runs["w1"], runs["w2"]
    assert one.manifest["counts"]["customers"] == two.manifest["counts"]["customers"] == CUSTOMERS
    # a customer is the same person whatever the shard count: same persona, store, identities
    by_id = [("customer_id", "ascending")]
    assert (
        one.customers()
        .drop_columns(["shard"])
        .sort_by(by_id)
        .equals(two.customers().drop_columns(["shard"]).sort_by(by_id))
    )
    assert one.customers().column("customer_id").to_pylist() == list(range(CUSTOMERS))


def test_no_customer_is_in_two_shards_and_each_shard_holds_whole_customers(runs: dict[str, Run]) -> None:
    run = runs["w2"]
    owners: dict[int, int] = {}
    for shard, part in enumerate(run.event_parts):
        t = _part(part, "customer_id", "journey_id", "shard")
        assert pc.all(pc.equal(t.column("shard"), shard)).as_py()
        ids = set(pc.unique(t.column("customer_id")).to_pylist())
        assert ids, f"shard {shard} is empty: the test would not show anything"
        assert not ids & owners.keys(), "a customer has events in two parts"
        owners.update(dict.fromkeys(ids, shard))
        # journeys do not cross parts either, so a customer's every journey is in its shard's part
        journeys = run.journeys().filter(pc.equal(run.journeys().column("shard"), shard))
        assert set(pc.unique(t.column("journey_id")).to_pylist()) == set(
            journeys.column("journey_id").to_pylist()
        )
    customers = run.customers()
    shard_of = dict(
        zip(customers.column("customer_id").to_pylist(), customers.column("shard").to_pylist(), strict=True)
    )
    assert all(shard_of[c] == s for c, s in owners.items()), "customers.parquet names the customer's part"
    # whole stores: a store's staff and its customers live in one shard
    stores = customers.group_by("home_store_id").aggregate([("shard", "count_distinct")])
    assert pc.max(stores.column("shard_count_distinct")).as_py() == 1


def test_parts_are_sorted_by_time_and_seq_and_event_ids_are_unique(runs: dict[str, Run]) -> None:
    run = runs["w2"]
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
    assert len(np.unique(ids)) == len(ids) == run.manifest["counts"]["events"]


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
        workers=workers,
        on_progress=on_progress,
        **options,
    )
    return Run(out), seen


def _assert_progress_is_exact(run: Run, seen: list[tuple[float, int]]) -> None:
    clock, events = np.array([s for s, _ in seen]), np.array([e for _, e in seen])
    assert len(seen) > 10
    assert (np.diff(clock) >= 0).all() and (np.diff(events) >= 0).all(), "the display never goes back"
    horizon = 86_400.0
    assert clock[-1] == horizon and events[-1] == run.manifest["counts"]["events"]
    # the combined clock is the slowest shard's: it reaches the last hour only with the last events
    # (a customer file is quiet late at night: the last slices may bring none)
    assert (events[clock < horizon - 3600.0] < events[-1]).all()


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
    on_dask, seen = _recorded(small_stores, tmp_path / "dask", 2, executor="dask", scheduler=dask_scheduler)
    local = runs["w2"]
    for part_dask, part_local in zip(on_dask.event_parts, local.event_parts, strict=True):
        assert _part(part_dask).equals(_part(part_local))
    assert on_dask.customers().equals(local.customers())
    assert on_dask.journeys().equals(local.journeys())
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
