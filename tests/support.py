"""Helpers the tests share: small runs and views of their events computed independently of parcours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.cli.main import main
from parcours.output.manifest import Manifest
from parcours.output.reader import Run
from parcours.output.rundir import CUSTOMERS_DIR, JOURNEYS_DIR, ParquetSink, RunWriter, part_name
from parcours.output.schema import CUSTOMER_SCHEMA, JOURNEY_SCHEMA, SCHEMA_VERSION
from parcours.simulator.run.options import Execution, Overrides
from parcours.simulator.run.simulate import simulate_run


def simulate(
    out: Path,
    scenario: str = "omnichannel",
    *,
    customers: int = 2000,
    seed: int = 7,
    days: int | None = None,
    start: str | None = None,
    workers: int = 1,
) -> Run:
    overrides = Overrides(customers=customers, seed=seed, days=days, start=start)
    simulate_run(scenario, overrides, out, Execution(workers))
    return Run(out)


def made_manifest(
    out: Path,
    *,
    events_per_shard: Sequence[int],
    first_ms: int,
    last_ms: int,
    timezone: str = "UTC",
    customers: int = 0,
    listed: int = 0,
    journeys: int = 0,
    personas: Sequence[str] = ("young",),
    scenario: dict[str, Any] | None = None,
    calendar: tuple[dt.date, int] | None = None,
) -> Manifest:
    """A complete, consistent manifest for a run a test writes by hand: its calendar (first day, days)
    ``calendar``, or the local days from ``first_ms`` to ``last_ms`` in ``timezone``; every customer is
    the first persona's."""
    zone = ZoneInfo(timezone)
    first = dt.datetime.fromtimestamp(first_ms / 1000, zone).date()
    days = (dt.datetime.fromtimestamp(last_ms / 1000, zone).date() - first).days + 1
    if calendar is not None:
        first, days = calendar
    start = dt.datetime.combine(first, dt.time(), zone)
    end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(), zone)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "parcours_version": "test",
        "path": str(out),
        "scenario": {
            "name": "test",
            "integration": "omnichannel",
            **(scenario or {}),
            "calendar": {"start": first.isoformat(), "timezone": timezone, "days": days},
        },
        "personas": {name: {"name": name} for name in personas},
        "seed": 1,
        "shards": len(events_per_shard),
        "events_per_shard": list(events_per_shard),
        "timezone": timezone,
        "start": start.astimezone(dt.UTC).isoformat(),
        "end": end.astimezone(dt.UTC).isoformat(),
        "counts": {
            "customers": customers,
            "customers_listed": listed,
            "events": sum(events_per_shard),
            "sessions": 0,
            "journeys": journeys,
        },
        "customers_by_persona": {personas[0]: customers},
        "resources": {"phone_agents": 0, "chat_agents": 0, "preparers_per_store": 1},
        "wall_time_s": 1.0,
        "events_per_s": None,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    return Manifest.from_json(doc, out)


def write_empty_truth(writer: RunWriter, shards: int) -> None:
    """Customers and journeys parts with no rows, one per shard, for a test run made of events only."""
    for folder, schema in ((CUSTOMERS_DIR, CUSTOMER_SCHEMA), (JOURNEYS_DIR, JOURNEY_SCHEMA)):
        writer.path(folder).mkdir()
        for shard in range(shards):
            ParquetSink(writer.path(folder) / part_name(shard), schema).close()


def local(ts: pa.ChunkedArray, zone: str = "Europe/Paris") -> pa.ChunkedArray:
    return ts.cast(pa.timestamp("ms", tz=zone))


def sessions(run: Run) -> dict[str, np.ndarray]:
    """One row per session: its first event's time, local hour and weekday, its channel and persona."""
    ev = run.events(["session_id", "ts", "channel", "persona", "customer_id"]).sort_by(
        [("session_id", "ascending"), ("ts", "ascending")]
    )
    sid = ev.column("session_id").to_numpy()
    _, first = np.unique(sid, return_index=True)
    firsts = ev.take(pa.array(first))
    ts_local = local(firsts.column("ts"), run.manifest.scenario.calendar.timezone)
    return {
        "session_id": sid[first],
        "hour": pc.hour(ts_local).to_numpy(),
        "weekday": pc.day_of_week(ts_local).to_numpy(),  # Monday = 0
        "channel": np.array(firsts.column("channel").cast(pa.string()).to_pylist()),
        "persona": np.array(firsts.column("persona").cast(pa.string()).to_pylist()),
        "customer": firsts.column("customer_id").to_numpy(),
    }


def share(mask: np.ndarray, within: np.ndarray) -> float:
    """Share of the rows selected by ``within`` that are also in ``mask``."""
    total = int(within.sum())
    assert total > 0, "no rows to take a share of"
    return float((mask & within).sum() / total)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the real entry point in-process: its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err
