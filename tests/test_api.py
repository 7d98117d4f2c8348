"""The public Python API (docs/api.md): the same runs, figures and errors as the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import parcours
from parcours.errors import ParcoursError, RunDirError, SpecError
from tests.support import run_main


def _parts(run: Path, table: str) -> pa.Table:
    """A run's table read part by part with plain pyarrow, in shard order: what the CLI wrote."""
    return pa.concat_tables([pq.read_table(p) for p in sorted((run / table).glob("part-*.parquet"))])


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``parcours simulate -n 4000 --seed 3 --shards 2`` (two shards: the API must read them in order)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    subprocess.run(
        [sys.executable, "-m", "parcours", "simulate", "-n", "4000", "--seed", "3", "--shards", "2",
         "-o", str(out), "--no-progress"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def api_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[parcours.Run]:
    tempfile.tempdir = str(tmp_path_factory.mktemp("owned"))  # temporary runs land here, not in /tmp
    try:
        run = parcours.simulate(customers=4000, seed=3, shards=2)
    finally:
        tempfile.tempdir = None
    yield run
    run.close()


def test_import_parcours_loads_nothing_else() -> None:
    """``import parcours`` stays a few milliseconds: no engine, no Arrow, no click until a name is used."""
    code = "import sys, parcours; print(sorted(m for m in sys.modules if m.startswith(('parcours', 'pyarrow', 'numpy', 'click', 'pydantic'))))"  # noqa: E501
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "['parcours']"


def test_every_public_name_resolves() -> None:
    for name in parcours.__all__:
        assert getattr(parcours, name) is not None, name
    assert set(parcours.__all__) <= set(dir(parcours))
    with pytest.raises(AttributeError, match="no attribute 'simulated'"):
        parcours.simulated  # noqa: B018


def test_simulate_gives_the_rows_the_command_line_writes(cli_run: Path, api_run: parcours.Run) -> None:
    events = api_run.events()
    assert events.num_rows == json.loads((cli_run / "run.json").read_text())["counts"]["events"] > 0
    assert events.num_rows == api_run.manifest.counts.events
    assert events.equals(_parts(cli_run, "events"))
    assert api_run.customers().equals(_parts(cli_run, "customers"))
    assert api_run.journeys().equals(_parts(cli_run, "journeys"))
    assert api_run.manifest.shards == 2 and api_run.manifest.seed == 3


def test_a_temporary_run_is_removed_when_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with parcours.simulate("multichannel", customers=500, seed=1) as run:
        assert (run.path / "run.json").is_file() and run.path.parent.parent == tmp_path
        page = run.report()
        assert page == run.path / "report.html" and page.read_text().startswith("<!DOCTYPE html>")
    assert list(tmp_path.iterdir()) == [] and run.closed
    with pytest.raises(ParcoursError, match="closed"):
        run.events()


def test_progress_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with parcours.simulate("multichannel", customers=300, seed=1, out=tmp_path / "run", progress=True):
        pass
    shown = capsys.readouterr()
    assert shown.out == "" and "simulated done" in shown.err and " events" in shown.err


def test_a_run_given_out_is_the_callers(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    run = parcours.simulate("multichannel", customers=500, seed=1, out=out)
    run.close()
    assert (out / "run.json").is_file()  # close() removes only a temporary run
    with pytest.raises(ParcoursError, match=r"^out: .* is a run already; pass overwrite=True"):
        parcours.simulate("multichannel", customers=500, seed=1, out=out)
    again = parcours.simulate("multichannel", customers=600, seed=1, out=out, overwrite=True)
    assert again.manifest.counts.customers == 600


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"customers": -5}, r"^customers: must be between 1 and"),
        ({"customers": 2.5}, r"^customers: expected a whole number, not 2.5$"),
        ({"customers": True}, r"^customers: expected a whole number"),
        ({"seed": -1}, r"^seed: must be zero or positive"),
        ({"days": 0}, r"^days: must be between 1 and 366"),
        ({"start": "2026-02-30"}, r"^start: expected a date as YYYY-MM-DD"),
        ({"workers": 0}, r"^workers: must be between 1 and 64"),
        ({"shards": 0}, r"^shards: must be between 1"),
        ({"replicates": 0}, r"^replicates: must be between 1 and"),
        ({"executor": "ray"}, r"^executor: expected one of local, dask"),
        ({"scenario": "nowhere"}, r"^nowhere: unknown scenario"),
    ],
)
def test_a_bad_argument_is_named_at_the_call(
    arguments: dict[str, object], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ParcoursError, match=message) as raised:
        parcours.simulate(**{"customers": 300, **arguments})  # type: ignore[arg-type]
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert len(frames) <= 2, "the traceback stops at the API's edge"
    assert list(tmp_path.iterdir()) == [], "a refused run leaves no temporary directory"


def test_open_run_names_the_path() -> None:
    with pytest.raises(RunDirError, match=r"^/nonexistent: no such run directory$"):
        parcours.open_run("/nonexistent")


def test_open_run_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not a finished parcours run"):
        parcours.open_run(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_columns_and_filters(api_run: parcours.Run) -> None:
    everything = api_run.events(["channel", "event_type", "customer_id"])
    assert everything.column_names == ["channel", "event_type", "customer_id"]
    stores = everything.filter(pc.equal(everything.column("channel").cast(pa.string()), "store"))
    by_dict = api_run.events(["channel", "customer_id"], filter={"channel": "store"})
    by_expression = api_run.events(["channel", "customer_id"], filter=pc.field("channel") == "store")
    assert 0 < by_dict.num_rows == by_expression.num_rows == stores.num_rows < everything.num_rows
    either = api_run.events(["channel"], filter={"channel": ["store", "phone"]})
    assert either.num_rows > by_dict.num_rows
    bought = api_run.journeys(filter={"outcome": "bought"})
    assert set(bought.column("outcome").cast(pa.string()).to_pylist()) == {"bought"}
    assert api_run.dataset().count_rows() == everything.num_rows


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.events(["nope"]), r"^columns: no column 'nope' \(there are: event_id,"),
        (lambda r: r.events("channel"), r"^columns: expected a list of column names"),
        (lambda r: r.events(filter={"nope": 1}), r"^filter: no column 'nope'"),
        (lambda r: r.events(filter=3), r"^filter: expected a pyarrow.compute expression or a dict"),
        (lambda r: r.to_polars("orders"), r"^table: expected one of events, customers, journeys"),
        (lambda r: r.events(filter={"ts": "noon"}), r"^filter: "),
    ],
)
def test_a_bad_table_argument_is_named(api_run: parcours.Run, call: object, message: str) -> None:
    with pytest.raises(ParcoursError, match=message):
        call(api_run)  # type: ignore[operator]


def test_frames_need_their_package(api_run: parcours.Run, monkeypatch: pytest.MonkeyPatch) -> None:
    polars = pytest.importorskip("polars")
    frame = api_run.to_polars("customers")
    assert isinstance(frame, polars.DataFrame) and frame.height == api_run.customers().num_rows
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ParcoursError, match=r"^to_pandas: needs the package pandas, .*pip install pandas"):
        api_run.to_pandas()


def test_facts_and_realism_are_the_commands_json(
    cli_run: Path, api_run: parcours.Run, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(["report", str(cli_run), "--format", "json"], capsys)
    assert code == 0
    cli_facts, api_facts = json.loads(out), api_run.facts()
    assert api_facts["runs"][0]["kpis"] == cli_facts["runs"][0]["kpis"]
    code, out, _ = run_main(["realism", str(cli_run), "--format", "json"], capsys)
    cli_realism, api_realism = json.loads(out), api_run.realism()
    assert api_realism["figures"] == cli_realism["figures"] and len(api_realism["figures"]) > 5


def test_repr_html_shows_the_headline(api_run: parcours.Run) -> None:
    page = api_run._repr_html_()
    conversion = api_run.facts()["runs"][0]["kpis"]["journey_conversion"]
    assert "omnichannel" in page and "4,000 (seed 3)" in page
    assert f"{conversion:.1%}" in page
    assert "omnichannel" in repr(api_run)


def test_compare_is_the_commands_json(
    cli_run: Path, api_run: parcours.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = parcours.simulate("multichannel", customers=4000, seed=3, out=tmp_path / "multi")
    page = tmp_path / "compare.html"
    found = parcours.compare(api_run, other, path=page)
    code, out, _ = run_main(["compare", str(cli_run), str(other.path), "--format", "json"], capsys)
    assert code == 0 and found["deltas"] == json.loads(out)["deltas"]
    assert page.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ParcoursError, match="needs at least two"):
        parcours.compare(api_run)
    (tmp_path / "mine.html").write_text("my notes")
    with pytest.raises(ParcoursError, match=r"^path: .*mine.html exists and is not a file parcours wrote"):
        parcours.compare(api_run, other, path=tmp_path / "mine.html")
    assert (tmp_path / "mine.html").read_text() == "my notes"


def test_a_variant_is_simulated_without_a_file(tmp_path: Path) -> None:
    base = parcours.load_scenario("crosschannel")
    changed = parcours.variant(base, {"stores.preparers_per_store": 3}, name="more_preparers")
    assert changed.stores.preparers_per_store == 3 and base.stores.preparers_per_store != 3
    assert changed.capabilities == base.capabilities
    omni = parcours.variant(base, integration="omnichannel")
    assert omni.capabilities.identity == "one_profile"  # the new level's preset
    with parcours.simulate(changed, customers=800, replicates=2, out=tmp_path / "set") as runs:
        assert runs.is_set and len(runs.replicates) == 2
        assert runs.replicates[1].manifest.resources.preparers_per_store == 3
        events = runs.events(["replicate", "event_id"])
        assert events.num_rows == sum(r.events(["event_id"]).num_rows for r in runs.replicates)
        assert set(events.column("replicate").to_pylist()) == {0, 1}
        second = runs.events(["customer_id", "replicate"], filter={"replicate": 1, "channel": "store"})
        assert second.num_rows == runs.replicates[1].events(["seq"], filter={"channel": "store"}).num_rows > 0
        assert set(second.column("replicate").to_pylist()) == {1}
        bought = runs.journeys(["customer_id"], filter={"outcome": "bought"})  # on a column not asked for
        assert bought.column_names == ["customer_id"] and bought.num_rows > 0
        assert "sides" in runs.facts()
        with pytest.raises(ParcoursError, match="is a run set; ask one replicate"):
            runs.realism()


def test_a_bad_variant_names_its_field() -> None:
    with pytest.raises(SpecError, match=r"^variant of crosschannel: stores.preparers_per_store: "):
        parcours.variant("crosschannel", {"stores.preparers_per_store": 0})
    with pytest.raises(SpecError, match=r"stores.preparer: unknown field"):
        parcours.variant("crosschannel", {"stores.preparer": 2})
    sneaky = parcours.load_scenario("crosschannel").model_copy(update={"name": "Not A Name"})
    with pytest.raises(SpecError, match="name"):  # model_copy skips validation; simulate does not
        parcours.simulate(sneaky, customers=100)


def test_specs_by_name() -> None:
    assert set(parcours.personas()) == {"ultra_connected", "traditional", "young", "office_worker"}
    scenarios = parcours.scenarios()
    assert {"multichannel", "crosschannel", "omnichannel"} <= set(scenarios)
    assert all(isinstance(s, parcours.Scenario) for s in scenarios.values())
    from parcours import scenarios as package  # the package is still the package

    assert package.get_scenario("omnichannel") == scenarios["omnichannel"]


def test_explain_splits_a_variant(tmp_path: Path) -> None:
    base = parcours.load_scenario("crosschannel")
    held = parcours.variant(base, {"capabilities.hold_other_store": True}, name="cross_hold")
    found = parcours.explain(base, held, customers=1200, replicates=2, days=1)
    (only,) = found.capabilities
    assert {k: only[k] for k in ("capability", "from", "to")} == {
        "capability": "hold_other_store",
        "from": False,
        "to": True,
    }
    table = found.to_table()
    rows = table.filter(pc.equal(table.column("figure"), "revenue_eur_per_day")).to_pylist()
    parts = {r["part"]: r for r in rows}
    assert {"from", "to", "total", "hold_other_store", "interaction"} <= set(parts)
    total = parts["to"]["mean"] - parts["from"]["mean"]
    assert parts["total"]["mean"] == pytest.approx(total, abs=1e-4)
    assert parts["hold_other_store"]["mean"] + parts["interaction"]["mean"] == pytest.approx(total, abs=1e-4)
    assert found.page(tmp_path / "explain.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ParcoursError, match=r"^workers: must be between 1 and 64"):
        parcours.explain("crosschannel", "omnichannel", customers=100, workers=0)


def test_replay_keeps_locust_out_of_the_caller(cli_run: Path, tmp_path: Path) -> None:
    """The replay runs in processes of its own: gevent never patches the caller's standard library.
    (The lag gate is wide: on a busy two-core machine the schedule's own lag can pass the default.)"""
    script = (
        "import json, sys, parcours\n"
        f"s = parcours.replay(parcours.open_run({str(cli_run)!r}), 'builtin', window='12:00-12:10',"
        f" speed=120, max_lag_ms=60000, out={str(tmp_path / 'results')!r})\n"
        "print(json.dumps({'gevent': 'gevent' in sys.modules, 'locust': 'locust' in sys.modules,"
        " 'summary': s}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert not found["gevent"] and not found["locust"]
    summary = found["summary"]
    assert summary["exit_code"] == 0 and summary["valid"] and summary["order_violations"] == 0
    log = pq.read_table(Path(summary["results"]) / "requests")
    assert log.num_rows == summary["events"]["sent"] == summary["events"]["to_send"] > 0


def test_replay_names_a_bad_argument(cli_run: Path) -> None:
    with pytest.raises(ParcoursError, match=r"^target: expected an http:// or https:// URL"):
        parcours.replay(cli_run, "ftp://example")
    with pytest.raises(ParcoursError, match=r"^speed: must be a number above 0"):
        parcours.replay(cli_run, "builtin", speed=0)
    assert not (cli_run / "replays").exists() or not any((cli_run / "replays").iterdir())


def test_the_command_line_help_stays_light() -> None:
    """``parcours --help`` loads neither the engine nor the API (the speed issue's budget)."""
    heavy = ("parcours.api", "pyarrow", "simpy")
    code = (
        "import sys\nfrom parcours.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
        f"    pass\nprint(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_simulate_run_loads_nothing_of_the_reading_side(tmp_path: Path) -> None:
    """``parcours simulate`` writes its run without pandas (0.2-0.3 s, which pyarrow's ``pa.array`` and
    ``pyarrow.dataset`` load where it is installed), ``pyarrow.compute`` (output/arrays.py calls its
    kernels), the API's reading side or run sets (the speed issue's import budget)."""
    unwanted = (
        "pandas",
        "pyarrow.dataset",
        "pyarrow.compute",
        "parcours.api.runs",
        "parcours.simulator.run.replicates",
    )
    args = [
        "simulate",
        "-n",
        "500",
        "--seed",
        "1",
        "--days",
        "2",
        "--no-progress",
        "-o",
        str(tmp_path / "run"),
    ]
    code = (
        f"import sys\nfrom parcours.cli.main import main\ntry:\n    main({args!r})\nexcept SystemExit as e:\n"
        f"    assert not e.code, e.code\nprint(sorted(m for m in sys.modules if m.startswith({unwanted!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (tmp_path / "run" / "run.json").is_file()
    assert done.stdout.strip().splitlines()[-1] == "[]"
