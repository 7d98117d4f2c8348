from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from parcours.output.reader import Run
from tests.support import simulate

# Forecasts are kept in the user's cache directory (simulator/world/forecast_cache.py): the suite keeps
# its own, shared by its runs (and the commands it starts), and removed at the end.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="parcours-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)


@pytest.fixture(scope="session", params=[1, 2], ids=["1-worker", "2-workers"])
def omni_run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Run:
    """One omnichannel weekday of 60,000 customers (about 5% act on a day), shared by the read-only
    tests; every test that reads it runs on one shard and on two, so sharding keeps every invariant."""
    return simulate(tmp_path_factory.mktemp("runs") / "omni", customers=60000, workers=request.param)


@pytest.fixture(scope="session")
def week_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A week (Monday 2026-11-23 to Sunday) of 20,000 customers."""
    return simulate(tmp_path_factory.mktemp("runs") / "week", customers=20000, days=7, start="2026-11-23")


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    return tmp_path / "run"
