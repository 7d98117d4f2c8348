"""Run sets: replicates that differ only by seed, seeds shared across scenarios, a folder written safely."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyarrow as pa
import pytest

from parcours.output.reader import Run
from parcours.output.runset import RUNSET, RunSet, open_runs
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.replicates import replicate_seeds, simulate_runset
from tests.support import run_main, simulate

CUSTOMERS = 1500


@pytest.fixture(scope="module")
def multi_set(tmp_path_factory: pytest.TempPathFactory) -> RunSet:
    out = tmp_path_factory.mktemp("sets") / "multi"
    simulate_runset("multichannel", Overrides(customers=CUSTOMERS, seed=3), out, 3)
    return RunSet(out)


def _events(run: Run) -> pa.Table:
    return run.events().sort_by([("event_id", "ascending")])


def test_replicates_differ_only_by_seed(multi_set: RunSet, tmp_path: Path) -> None:
    assert multi_set.seeds == replicate_seeds(3, 3)
    assert len(set(multi_set.seeds)) == 3
    manifests = [r.manifest for r in multi_set.runs]
    for run, seed in zip(multi_set.runs, multi_set.seeds, strict=True):
        assert run.manifest.seed == seed == run.manifest.scenario.data["population"]["seed"]
        assert run.manifest.path == str(run.path)
    # everything but the seed is the same scenario
    scenarios = [copy.deepcopy(dict(m.scenario.data)) for m in manifests]
    for s in scenarios:
        s["population"].pop("seed")
    assert all(s == scenarios[0] for s in scenarios)
    # the events differ between replicates ...
    first, second = (_events(r) for r in multi_set.runs[:2])
    assert not first.equals(second)
    # ... and a replicate is exactly an ordinary run with its seed
    alone = simulate(tmp_path / "alone", "multichannel", customers=CUSTOMERS, seed=multi_set.seeds[1])
    assert _events(alone).equals(second)


def test_same_replicate_index_same_seed_whatever_the_scenario(multi_set: RunSet, tmp_path: Path) -> None:
    out = tmp_path / "omni"
    simulate_runset("omnichannel", Overrides(customers=500, seed=3), out, 2)
    omni = RunSet(out)
    assert omni.seeds == multi_set.seeds[:2]
    assert omni.manifest.scenario_name == "omnichannel"
    assert replicate_seeds(4, 2) != replicate_seeds(3, 2)


def test_cli_writes_a_run_set_and_refuses_to_damage_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set"
    args = ["simulate", "-s", "crosschannel", "-n", "400", "--seed", "9", "--replicates", "2", "-o", str(out)]
    code, _, err = run_main(args, capsys)
    assert code == 0, err
    manifest = json.loads((out / RUNSET).read_text())
    assert [r["path"] for r in manifest["runs"]] == ["rep-000", "rep-001"]
    assert manifest["root_seed"] == 9 and manifest["scenario_name"] == "crosschannel"
    assert isinstance(open_runs(out), RunSet)
    assert isinstance(open_runs(out / "rep-000"), Run)
    before = (out / RUNSET).read_text()
    code, _, err = run_main(args, capsys)
    assert code == 2 and "--overwrite" in err and "Traceback" not in err
    assert (out / RUNSET).read_text() == before
    # a single run where a run set is asked for, and a run set where a single run is asked for
    code, _, err = run_main([*args[:-2], "-o", str(out / "rep-000")], capsys)
    assert code == 2 and "not a run set" in err
    code, _, err = run_main(["simulate", "-n", "100", "-o", str(out)], capsys)
    assert code == 2 and "not a parcours run" in err
    assert (out / RUNSET).read_text() == before
    for bad in ("0", "-1"):
        code, _, err = run_main([*args[:6], f"--replicates={bad}", "-o", str(tmp_path / "x")], capsys)
        assert code == 2 and "--replicates" in err
        assert not (tmp_path / "x").exists()
    notes = out / "notes.txt"  # the user's: --overwrite must not take it away with the set
    notes.write_text("mine")
    code, _, err = run_main([*args, "--overwrite"], capsys)
    assert code == 2 and "notes.txt" in err and notes.read_text() == "mine"
    notes.unlink()
    code, _, err = run_main([*args, "--overwrite"], capsys)
    assert code == 0, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and "lock" not in p.name]


def test_replicates_keep_the_shards_they_are_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--shards travels with --replicates: every replicate is cut as asked, and the set records it."""
    out = tmp_path / "sharded"
    args = ["simulate", "-n", "3000", "--seed", "5", "--replicates", "2", "--shards", "2", "-o", str(out)]
    code, _, err = run_main(args, capsys)
    assert code == 0, err
    for replicate in ("rep-000", "rep-001"):
        manifest = json.loads((out / replicate / "run.json").read_text())
        assert manifest["shards"] == 2 and len(manifest["events_per_shard"]) == 2
        assert len(list((out / replicate / "events").glob("*.parquet"))) == 2
    header = json.loads((out / RUNSET).read_text())
    assert header["shards"] == 2 and header["workers"] == 1
    # the same bound as a single run: no more shards than stores
    code, _, err = run_main([*args[:-4], "--shards", "999", "-o", str(tmp_path / "many")], capsys)
    assert code == 2 and "--shards" in err and not (tmp_path / "many").exists()
