"""Helpers the tests share: small runs and views of their events computed independently of parcours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.cli.main import main
from parcours.output.reader import Run
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
