"""A damaged or edited run directory (or run set) is checked, not trusted: `report`, `realism` and
`replay --dry-run` each exit 2 with one line naming the file and the field, before any work.

Each case damages a copy of one small real run (made once for the module), then runs the three real
commands on it in their own processes, with a timeout that only catches a hang.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parcours.output.fields import MAX_MANIFEST_BYTES

HANG = 120  # seconds: a command still running then is hung; each case takes a few seconds
VERBS = {
    "report": ["report", "{run}", "-o", "{tmp}/report.html"],
    "realism": ["realism", "{run}"],
    "replay": ["replay", "{run}", "--dry-run", "--target", "http://127.0.0.1:9"],
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run and one small real run set, written once."""
    root = tmp_path_factory.mktemp("made")
    for args in (["-n", "300", "-o", str(root / "run")], ["-n", "100", "-r", "2", "-o", str(root / "set")]):
        done = subprocess.run(
            [sys.executable, "-m", "parcours", "simulate", "--seed", "7", "--no-progress", *args],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    return root


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda run: edit_json(run / "run.json", change)


def rewrite(part: str, change: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    """Rewrite one Parquet part of the run with ``change`` applied, its schema metadata kept."""

    def damage(run: Path) -> None:
        path = run / part
        table = change(pq.read_table(path))
        pq.write_table(table, path)

    return damage


def set_ts_to_year_9999(table: pa.Table) -> pa.Table:
    ts = table.column("ts").to_pylist()
    ts[-1] = ts[-1].replace(year=9999)
    i = table.schema.get_field_index("ts")
    return table.set_column(i, table.schema.field(i), pa.array(ts, table.schema.field(i).type))


def retype(name: str, kind: pa.DataType) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index(name)
        column = table.column(i).cast(pa.int64()) if kind == pa.int64() else table.column(i).cast(kind)
        return table.set_column(i, pa.field(name, kind), column)

    return change


def nest(run: Path) -> None:
    (run / "run.json").write_text("[" * 20_000 + "]" * 20_000)


def huge(run: Path) -> None:
    with (run / "run.json").open("w") as f:
        f.write('{"pad": "' + "x" * (MAX_MANIFEST_BYTES + 10) + '"}')


def unclosed(run: Path) -> None:
    """A string that never closes, full of escaped quotes: measuring its nesting must stay one pass."""
    (run / "run.json").write_bytes(b'{"a": "' + b'\\"' * 1_000_000)


def fifo(run: Path) -> None:
    (run / "run.json").unlink()
    os.mkfifo(run / "run.json")


def garbage(path: str) -> Callable[[Path], None]:
    return lambda run: (run / path).write_bytes(b"PAR1 not parquet at all PAR1")


def extra_part(folder: str) -> Callable[[Path], None]:
    return lambda run: shutil.copy(run / folder / "part-00000.parquet", run / folder / "part-00001.parquet")


RUN_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "unknown time zone": (manifest(lambda d: d.update(timezone="Mars/Olympus_Mons")), "timezone"),
    "unknown calendar zone": (
        manifest(lambda d: d["scenario"]["calendar"].update(timezone="../../etc/passwd")),
        "scenario.calendar.timezone",
    ),
    "start of yesterday": (manifest(lambda d: d.update(start="yesterday")), "start"),
    "start in 1900": (manifest(lambda d: d.update(start="1900-01-01T00:00:00+00:00")), "start"),
    "start not the calendar's": (manifest(lambda d: d.update(start="2030-01-01T00:00:00+00:00")), "start"),
    "calendar start garbage": (
        manifest(lambda d: d["scenario"]["calendar"].update(start="9999-99-99")),
        "scenario.calendar.start",
    ),
    "shards 1e9": (manifest(lambda d: d.update(shards=1e9)), "shards"),
    "shards 1000000000": (manifest(lambda d: d.update(shards=1_000_000_000)), "shards"),
    "shards 2, one part": (manifest(lambda d: d.update(shards=2)), "events_per_shard"),
    "no personas": (manifest(lambda d: d.pop("personas")), "personas: missing"),
    "personas a list": (manifest(lambda d: d.update(personas=["young"])), "personas"),
    "no scenario": (manifest(lambda d: d.pop("scenario")), "scenario: missing"),
    "garbage integration": (
        manifest(lambda d: d["scenario"].update(integration="telepathic")),
        "scenario.integration",
    ),
    "events count true": (manifest(lambda d: d["counts"].update(events=True)), "counts.events"),
    "customers miscounted": (
        manifest(lambda d: d["counts"].update(customers=d["counts"]["customers"] + 1)),
        "customers_by_persona",
    ),
    "nested 20,000 deep": (nest, "nested 20000 deep"),
    "manifest over the size cap": (huge, "larger than"),
    "an unclosed string of escaped quotes": (unclosed, "unreadable manifest"),
    "manifest a FIFO": (fifo, "run.json"),
    "events: a column missing": (
        rewrite("events/part-00000.parquet", lambda t: t.drop_columns(["channel"])),
        "events/part-00000.parquet: no column 'channel'",
    ),
    "events: ts retyped": (
        rewrite("events/part-00000.parquet", retype("ts", pa.int64())),
        "events/part-00000.parquet: column 'ts' is int64",
    ),
    "events: ts in year 9999": (
        rewrite("events/part-00000.parquet", set_ts_to_year_9999),
        "events/part-00000.parquet: column 'ts' holds 9999",
    ),
    "customers: part deleted": (
        lambda run: (run / "customers/part-00000.parquet").unlink(),
        "customers/part-00000.parquet: missing",
    ),
    "customers: an extra part": (extra_part("customers"), "customers/part-00001.parquet: not one of"),
    "customers: garbage part": (
        garbage("customers/part-00000.parquet"),
        "customers/part-00000.parquet: not a readable Parquet file",
    ),
    "customers: a column retyped": (
        rewrite("customers/part-00000.parquet", retype("home_store_id", pa.string())),
        "customers/part-00000.parquet: column 'home_store_id'",
    ),
    "journeys: part deleted": (
        lambda run: (run / "journeys/part-00000.parquet").unlink(),
        "journeys/part-00000.parquet: missing",
    ),
}


#: Runs each verb through the real entry point (parcours.cli.main.main, what the ``parcours`` script
#: calls) in one fresh process, printing each one's exit code and stderr as a JSON line: one process
#: per case, not three, keeps the module light on a busy machine; its timeout still catches a hang.
RUNNER = """
import contextlib, io, json, sys
from parcours.cli.main import main
for verb, args in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    print(json.dumps([verb, code, err.getvalue()]), flush=True)
"""


def run_verbs(target: Path, tmp: Path) -> dict[str, tuple[int, str]]:
    """Each verb on ``target`` through the real CLI, in a process of its own: its exit code and stderr."""
    verbs = {verb: [a.format(run=target, tmp=tmp) for a in args] for verb, args in VERBS.items()}
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(verbs)], capture_output=True, text=True, timeout=HANG
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"still running after {HANG} s on the damaged run; so far: {exc.stdout!r}")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {verb: (code, err) for verb, code, err in lines}


def assert_refused(results: dict[str, tuple[int, str]], file: str, field: str) -> None:
    for verb, (code, err) in results.items():
        lines = err.strip().splitlines()
        assert code == 2, f"{verb}: exit {code}: {err}"
        assert len(lines) == 1 and lines[0].startswith("parcours: error: "), f"{verb}: {err}"
        assert "Traceback" not in err and "unexpected" not in err, f"{verb}: {err}"
        assert file in lines[0] and field in lines[0], f"{verb}: {lines[0]!r} names not {file} / {field}"


@pytest.mark.parametrize("case", RUN_CASES, ids=list(RUN_CASES))
def test_a_damaged_run_is_one_line_and_exit_2(made: Path, tmp_path: Path, case: str) -> None:
    damage, field = RUN_CASES[case]
    run = tmp_path / "run"
    shutil.copytree(made / "run", run)
    damage(run)
    file, _, field = (
        field.rpartition(": ")
        if field.startswith(("events/", "customers/", "journeys/"))
        else ("run.json", "", field)
    )
    results = run_verbs(run, tmp_path)
    assert_refused(results, str(run / file), field)
    assert not (tmp_path / "report.html").exists()


def write_runset(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda s: edit_json(s / "runset.json", change)


SET_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage manifest": (lambda s: (s / "runset.json").write_text("{runs: ["), "runset.json: unreadable"),
    "a replicate outside the set": (
        write_runset(lambda d: d["runs"][1].update(path="../../elsewhere")),
        "runs[1].path",
    ),
    "root seed not a number": (write_runset(lambda d: d.update(root_seed="seven")), "root_seed"),
    "an extra replicate folder": (
        lambda s: shutil.copytree(s / "rep-000", s / "rep-002"),
        "rep-002: a replicate folder",
    ),
    "a replicate folder deleted": (lambda s: shutil.rmtree(s / "rep-001"), "rep-001: missing"),
    "a replicate's manifest damaged": (
        lambda s: edit_json(s / "rep-001" / "run.json", lambda d: d.update(shards=1e9)),
        "shards",
    ),
}


@pytest.mark.parametrize("case", SET_CASES, ids=list(SET_CASES))
def test_a_damaged_run_set_is_one_line_and_exit_2(made: Path, tmp_path: Path, case: str) -> None:
    damage, field = SET_CASES[case]
    runset = tmp_path / "set"
    shutil.copytree(made / "set", runset)
    damage(runset)
    results = run_verbs(runset, tmp_path)
    assert_refused({"report": results.pop("report")}, str(runset), field)
    for verb, (code, err) in results.items():  # a set is not a run: refused too, never worked on
        assert code == 2 and len(err.strip().splitlines()) == 1, (verb, err)


def test_the_undamaged_copies_pass(made: Path, tmp_path: Path) -> None:
    """The checks refuse the damage, not the run: the same verbs on the copies as made exit 0 (realism
    may find a figure outside its range on so small a run: exit 1, but never 2)."""
    results = run_verbs(made / "run", tmp_path)
    assert results["report"][0] == 0 and results["replay"][0] == 0, results
    assert results["realism"][0] in (0, 1), results
    assert run_verbs(made / "set", tmp_path)["report"][0] == 0
