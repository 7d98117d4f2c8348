"""The manifests' one owner (output/manifest.py): what the simulator writes reads back as the same bytes,
and readers get typed fields; a manifest missing what a run cannot be read without is refused in one line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from parcours.errors import RunDirError
from parcours.output.manifest import Manifest, RunSetManifest, SetCounts
from parcours.output.reader import Run


def test_a_written_run_json_reads_back_as_the_same_bytes(omni_run: Run) -> None:
    path = omni_run.path / "run.json"
    manifest = Manifest.read(path)
    assert manifest.to_json() == path.read_text()
    assert manifest.counts.events == sum(manifest.events_per_shard) == omni_run.events().num_rows
    assert manifest.scenario.name == "omnichannel" and manifest.scenario.calendar.timezone == "Europe/Paris"
    assert manifest.shards == len(omni_run.event_parts)


def test_a_run_set_manifest_keeps_shards_and_workers_apart(tmp_path: Path) -> None:
    made = RunSetManifest.of_seeds(
        [11, 12],
        scenario="omnichannel",
        scenario_name="omnichannel",
        root_seed=3,
        shards=4,
        workers=2,
        counts=SetCounts(10, 20, 30),
        wall_time_s=1.5,
    )
    made.write(tmp_path / "runset.json")
    doc = json.loads((tmp_path / "runset.json").read_text())
    assert (doc["shards"], doc["workers"], doc["replicates"]) == (4, 2, 2)
    assert [r["path"] for r in doc["runs"]] == ["rep-000", "rep-001"]
    assert RunSetManifest.read(tmp_path / "runset.json") == made
    # a set `explain` keeps has no totals, and its JSON does not pretend to
    bare = replace(made, shards=None, workers=None, counts=None, wall_time_s=None)
    assert not {"shards", "workers", "counts", "wall_time_s"} & set(bare.to_dict())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({"schema_version": 99, "shards": 1, "counts": {"events": 0}}, "schema_version: 99 is not one"),
        ({"schema_version": 1, "counts": {"events": 0}}, "shards: missing"),
    ],
)
def test_a_manifest_without_what_a_run_needs_is_refused(tmp_path: Path, doc: object, message: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(RunDirError, match=message):
        Manifest.read(path)
