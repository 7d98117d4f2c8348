"""Forecasts kept on disk (simulator/world/forecast_cache.py): what is served is what would be computed.

Each test has its own cache directory; a forecast is computed for real (half a second) where the test
needs one, and the computation is made to fail where the test says the cache must answer instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from parcours.personas import BUILTIN_DIR, builtin_names
from parcours.scenarios import Scenario, get_scenario
from parcours.simulator.world import forecast as fm
from parcours.simulator.world import forecast_cache, staffing
from parcours.simulator.world.forecast import Forecast
from parcours.strategy.explain import DEFAULT_TERMS, FIGURES, Job, combination_forecasts, run_job
from parcours.strategy.factors import to_toml
from tests.test_architecture import GRAPH, MODULES


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache directory of the test's own, and no forecast kept in the process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(forecast_cache.CACHE_ENV, raising=False)
    fm.forget()
    yield tmp_path / "xdg" / "parcours" / "forecasts"
    fm.forget()


@pytest.fixture(scope="module")
def omni() -> Scenario:
    return get_scenario("omnichannel")


@pytest.fixture(scope="module")
def computed(omni: Scenario) -> Forecast:
    """The omnichannel forecast as the planner computes it, without any cache."""
    return fm._forecast(fm.ordinary(omni))


def _no_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(scenario: Scenario) -> Forecast:
        raise AssertionError("the forecast was computed, not read from the cache")

    monkeypatch.setattr(fm, "_forecast", refuse)


@pytest.fixture()
def computing(monkeypatch: pytest.MonkeyPatch, computed: Forecast) -> list[str]:
    """The computation counted (and given its known result, to spare half a second a call)."""
    calls: list[str] = []

    def count(scenario: Scenario) -> Forecast:
        calls.append(scenario.name)
        return computed

    monkeypatch.setattr(fm, "_forecast", count)
    return calls


def _key(scenario: Scenario) -> str:
    week = fm.ordinary(scenario)
    return fm.forecast_key(week, week.model_dump_json())


def _same(a: Forecast, b: Forecast) -> bool:
    return all(a.per_customer[k].tobytes() == b.per_customer[k].tobytes() for k in fm.KINDS)


def test_a_cached_forecast_is_the_computed_one_bit_for_bit(
    cache: Path, omni: Scenario, computed: Forecast, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fm.forecast(omni)  # computed and written
    assert _same(first, computed)
    assert [p.name for p in cache.iterdir()] == [f"{_key(omni)}.npz"]  # no temporary file left
    fm.forget()
    _no_computing(monkeypatch)
    again = fm.forecast(omni)
    assert _same(again, computed)
    # what does not change the ordinary week (the run's size, seed, name) is served the same forecast
    other = omni.model_copy(update={"name": "renamed"})
    other = other.model_copy(update={"population": omni.population.model_copy(update={"customers": 7})})
    assert _same(fm.forecast(other), computed)


def test_a_stale_key_is_not_served(
    cache: Path, omni: Scenario, computed: Forecast, computing: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a forecast made by other code, kept under the key that code gave
    forged = {k: v * 2.0 + 1.0 for k, v in computed.per_customer.items()}
    with monkeypatch.context() as older:
        older.setattr(forecast_cache, "code_digest", lambda: "older code")
        forecast_cache.store(_key(omni), forged)
        assert np.array_equal(fm.forecast(omni).per_customer["phone"], forged["phone"])  # it reads it
    fm.forget()
    assert _same(fm.forecast(omni), computed) and len(computing) == 1  # this code does not
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("capability", sorted(fm.NOT_PLANNED))
def test_a_capability_set_alike_in_the_ordinary_week_changes_nothing_the_forecast_counts(
    omni: Scenario, computed: Forecast, capability: str
) -> None:
    """``ordinary`` sets the capabilities of NOT_PLANNED to one value, so that scenarios differing only in
    them share a forecast: computed with each of them as omnichannel has it (not the value set), the
    forecast is the same to the bit. A capability that comes to act on the plan fails here."""
    week = fm.ordinary(omni)
    own = getattr(omni.capabilities, capability)
    assert getattr(week.capabilities, capability) != own, "the test would compare a forecast with itself"
    caps = week.capabilities.model_copy(update={capability: own})
    assert _same(fm._forecast(week.model_copy(update={"capabilities": caps})), computed)
    assert _key(omni) == _key(omni.model_copy(update={"capabilities": caps}))


def test_every_input_of_the_forecast_is_in_its_key(omni: Scenario, tmp_path: Path) -> None:
    base = _key(omni)
    caps = omni.capabilities.model_copy(update={"click_collect": not omni.capabilities.click_collect})
    assert _key(omni.model_copy(update={"capabilities": caps})) != base
    calendar = omni.calendar.model_copy(update={"timezone": "America/New_York"})
    assert _key(omni.model_copy(update={"calendar": calendar})) != base
    # a persona given by its file: the file's content is in the key
    persona = tmp_path / "young.toml"
    source = Path(BUILTIN_DIR / "young.toml").read_text(encoding="utf-8")
    persona.write_text(source, encoding="utf-8")
    mix = dict.fromkeys(builtin_names(), 0.25) | {str(persona): 0.25}
    del mix["young"]
    own = omni.model_copy(update={"population": omni.population.model_copy(update={"personas": mix})})
    before = _key(own)
    persona.write_text(source + "\n# edited\n", encoding="utf-8")
    assert _key(own) != before


def test_the_code_digest_covers_every_module_the_forecast_imports() -> None:
    def parents(module: str) -> set[str]:
        parts = module.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))}

    seen: set[str] = set()
    todo = ["parcours.simulator.world.forecast", "parcours.simulator.world.forecast_cache"]
    while todo:
        module = todo.pop()
        if module in seen or module not in MODULES:
            continue
        seen.add(module)
        todo += sorted(GRAPH[module] | parents(module))
    covered = set(forecast_cache.code_files())
    missing = sorted(m for m in seen if MODULES[m] not in covered)
    assert not missing, f"add these to forecast_cache.CODE: {missing}"


@pytest.mark.parametrize("content", [b"not a forecast at all", "foreign"], ids=["garbage", "foreign npz"])
def test_a_corrupt_or_foreign_file_is_ignored_and_left_alone(
    cache: Path, omni: Scenario, computed: Forecast, computing: list[str], content: bytes | str
) -> None:
    cache.mkdir(parents=True)
    path = cache / f"{_key(omni)}.npz"
    if content == "foreign":  # a valid NumPy archive, not written by parcours for this key
        with path.open("wb") as f:
            np.savez(f, magic=np.array("someone else"), phone=np.ones((7, 24)))
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    before = path.read_bytes()
    assert _same(fm.forecast(omni), computed) and len(computing) == 1
    assert path.read_bytes() == before
    assert [p.name for p in cache.iterdir()] == [path.name]


def test_the_cache_can_be_turned_off_or_be_unwritable(
    cache: Path,
    omni: Scenario,
    computed: Forecast,
    computing: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(forecast_cache.CACHE_ENV, "off")
    assert _same(fm.forecast(omni), computed)
    assert not cache.parent.parent.exists()
    fm.forget()
    assert _same(fm.forecast(omni), computed) and len(computing) == 2  # nothing kept on disk
    fm.forget()
    blocker = tmp_path / "a file"
    blocker.write_text("in the way", encoding="utf-8")
    monkeypatch.setenv(forecast_cache.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made
    assert _same(fm.forecast(omni), computed) and len(computing) == 3
    assert blocker.read_text(encoding="utf-8") == "in the way"


def test_explain_runs_read_the_forecasts_made_once_for_their_combination(
    cache: Path, omni: Scenario, computing: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario_file = tmp_path / "scenario.toml"
    scenario_file.write_text(to_toml(omni.model_copy(update={"name": "explain_c0001"})), encoding="utf-8")
    made = combination_forecasts(scenario_file)  # in explain, in a worker process
    assert len(made) == 1 and computing == ["ordinary"]  # an ordinary day: one forecast serves both
    monkeypatch.setenv(forecast_cache.CACHE_ENV, "off")
    fm.forget()  # a fresh worker: nothing kept, no disk cache; the job brings the forecasts
    _no_computing(monkeypatch)
    job = Job(1, 0, 5, "c1", scenario_file, tmp_path / "run", 2000, False, DEFAULT_TERMS, made)
    figures = run_job(job)
    assert figures.shape == (len(FIGURES),) and not (tmp_path / "run").exists()


def test_a_kept_roster_is_the_computed_one(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    load = rng.uniform(0.0, 400.0, (2, 24))
    hours = np.zeros((2, 24), bool)
    hours[:, 8:20] = True
    args = (load, hours, 300.0, 0.8, 20.0, 90.0)
    made = staffing.cached_roster(*args)
    assert np.array_equal(made, staffing.roster(*args)) and made.dtype == np.int64
    with monkeypatch.context() as m:
        m.setattr(staffing, "roster", lambda *a: pytest.fail("computed, not read"))
        assert np.array_equal(staffing.cached_roster(*args), made)
        assert len(list(cache.iterdir())) == 1
    # another target is another roster
    assert not np.array_equal(staffing.cached_roster(load, hours, 300.0, 0.95, 20.0, 90.0), made)


def test_the_cache_keeps_the_forecasts_used_last_and_removes_only_its_own(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = {"phone": np.ones((7, 24))}
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5)]
    for age, key in enumerate(keys[:4]):  # each written before the next, the first the oldest
        forecast_cache.store(key, arrays)
        os.utime(cache / f"{key}.npz", (1_000_000 + age, 1_000_000 + age))
    # not ours, though named like a key; and a file of another name
    foreign = cache / f"{hashlib.sha256(b'x').hexdigest()}.npz"
    foreign.write_bytes(b"not a forecast")
    os.utime(foreign, (1, 1))
    (cache / "notes.npz").write_bytes(b"mine")
    assert forecast_cache.load(keys[0], ("phone",), (7, 24)) is not None  # the oldest, used now
    monkeypatch.setattr(forecast_cache, "KEEP", 3)
    forecast_cache.store(keys[4], arrays)  # one more, beyond 3: the ones used longest ago go
    left = {p.name for p in cache.iterdir()}
    assert left == {f"{k}.npz" for k in (keys[0], keys[3], keys[4])} | {foreign.name, "notes.npz"}
