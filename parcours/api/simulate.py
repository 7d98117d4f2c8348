"""``simulate``: a scenario's customers through the SimPy world into a run directory, from Python.

``write`` is the one way a run or a run set is written, for ``parcours.simulate`` and for ``parcours
simulate`` alike: the options arrive built (``Overrides``, ``Execution``), checked once, and the same
files come out for the same seed and shard count.
"""

from __future__ import annotations

import datetime as dt
import operator
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from parcours.api.edge import user_errors
from parcours.api.specs import checked
from parcours.errors import ParcoursError
from parcours.scenarios import Scenario
from parcours.simulator.run import simulate as engine
from parcours.simulator.run.options import Execution, Overrides

if TYPE_CHECKING:  # the reading side (pyarrow.dataset, which loads pandas) and run sets, on first use
    from parcours.api.runs import Run
    from parcours.output.manifest import Manifest, RunSetManifest
    from parcours.simulator.run.replicates import OnReplicate
    from parcours.simulator.run.simulate import OnProgress


@dataclass(frozen=True)
class Hooks:
    """What a front end is told while a run is written: the clock (``on_progress``), each replicate
    starting (``on_replicate``) and one-line notes such as what an overwrite removes (``say``)."""

    on_progress: OnProgress | None = None
    on_replicate: OnReplicate | None = None
    say: Callable[[str], None] | None = None


QUIET = Hooks()


@overload
def write(
    scenario: str | Scenario,
    overrides: Overrides,
    execution: Execution,
    out: Path,
    replicates: None = None,
    *,
    overwrite: bool = False,
    hooks: Hooks = QUIET,
) -> Manifest: ...
@overload
def write(
    scenario: str | Scenario,
    overrides: Overrides,
    execution: Execution,
    out: Path,
    replicates: int,
    *,
    overwrite: bool = False,
    hooks: Hooks = QUIET,
) -> RunSetManifest: ...
def write(
    scenario: str | Scenario,
    overrides: Overrides,
    execution: Execution,
    out: Path,
    replicates: int | None = None,
    *,
    overwrite: bool = False,
    hooks: Hooks = QUIET,
) -> Manifest | RunSetManifest:
    """Write a finished run (or, with ``replicates``, a run set) at ``out``; returns its manifest."""
    if isinstance(scenario, Scenario):
        scenario = checked(scenario)
    if replicates is None:
        return engine.simulate_run(  # looked up at the call: a test may stand in for the engine
            scenario,
            overrides,
            out,
            execution,
            overwrite=overwrite,
            on_progress=hooks.on_progress,
            say=hooks.say,
        )
    from parcours.simulator.run import replicates as run_sets

    return run_sets.simulate_runset(
        scenario,
        overrides,
        out,
        replicates,
        execution,
        overwrite=overwrite,
        on_replicate=hooks.on_replicate,
        on_progress=hooks.on_progress,
    )


@user_errors
def simulate(
    scenario: str | os.PathLike[str] | Scenario = "omnichannel",
    customers: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    start: str | dt.date | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int = 1,
    replicates: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
    *,
    shards: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> Run:
    """Simulate ``scenario`` (a built-in name, a .toml path, or a ``Scenario``) and return the run.

    As ``parcours simulate``: ``customers``, ``seed``, ``days`` and ``start`` override the scenario's;
    ``workers`` processes take ``shards`` shards (the output depends on the seed and the shard count
    only); ``replicates`` writes a run set. Without ``out`` the run goes to a temporary directory that
    the returned ``Run`` owns and removes when closed (``with parcours.simulate(...) as run:``).
    """
    overrides = Overrides(
        customers=_whole("customers", customers),
        seed=_whole("seed", seed),
        days=_whole("days", days),
        start=start.isoformat() if isinstance(start, dt.date) else start,
    )
    execution = Execution(
        workers=_number("workers", workers),
        shards=_whole("shards", shards),
        executor=executor,
        scheduler=scheduler,
    )
    from parcours.api.runs import Run

    spec = os.fspath(scenario) if isinstance(scenario, str | os.PathLike) else scenario
    owned = None if out is not None else Path(tempfile.mkdtemp(prefix="parcours-"))
    target = Path(out) if out is not None else owned / _name(spec)  # type: ignore[operator]
    try:
        write(
            spec,
            overrides,
            execution,
            target,
            _whole("replicates", replicates),
            overwrite=overwrite,
            hooks=_ProgressLine().hooks() if progress else QUIET,
        )
        return Run(target, _owned=owned)
    except BaseException:  # a refused or interrupted run leaves no temporary directory behind
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise


def _whole(name: str, value: Any) -> int | None:
    """An integer argument or None."""
    return None if value is None else _number(name, value)


def _number(name: str, value: Any) -> int:
    """An integer argument (a NumPy integer too), or a ParcoursError naming it."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise ParcoursError(f"{name}: expected a whole number, not {value!r}")


def _name(scenario: str | Scenario) -> str:
    return scenario.name if isinstance(scenario, Scenario) else Path(scenario).stem


class _ProgressLine:
    """``progress=True``: the simulated clock and events written, on stderr, a few times a minute."""

    def __init__(self, every_s: float = 2.0) -> None:
        self.every_s = every_s
        self.last = 0.0

    def clock(self, sim_s: float, horizon_s: float, events: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and sim_s < horizon_s:
            return
        self.last = now
        day, rest = divmod(int(sim_s), 86_400)
        when = f"day {day + 1} {rest // 3600:02d}:{rest % 3600 // 60:02d}" if sim_s < horizon_s else "done"
        print(f"simulated {when}: {events:,} events", file=sys.stderr, flush=True)

    def replicate(self, index: int, count: int) -> None:
        print(f"replicate {index + 1} of {count}", file=sys.stderr, flush=True)

    def hooks(self) -> Hooks:
        return Hooks(self.clock, self.replicate, lambda line: print(line, file=sys.stderr, flush=True))
