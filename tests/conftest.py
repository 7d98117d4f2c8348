from __future__ import annotations

from pathlib import Path

import pytest

from parcours.output.reader import Run
from tests.support import simulate


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
