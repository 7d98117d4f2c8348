"""``replay``: play a run against an HTTP backend with Locust, from Python.

As ``parcours replay``: Locust (and gevent, which patches the standard library when imported) runs in
processes of its own, never in the caller's, so a notebook or a script stays as it was. The result is
the replay's ``summary.json`` as a dict, with ``results``: the folder holding the request log
(``requests/*.parquet``), Locust's files and, for ``target="builtin"``, the reference backend's
database.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from parcours.api.edge import user_errors_as
from parcours.api.runs import Run
from parcours.output.replays import new_replay_dir, read_summary

#: The key ``replay`` adds to the summary: where its results are.
RESULTS = "results"


@user_errors_as(run_dir="run", timeout="timeout_s")
def replay(
    run: Run | str | os.PathLike[str],
    target: str,
    mapping: str | None = None,
    speed: float = 1.0,
    window: str | None = None,
    check: bool = False,
    *,
    max_gap: str | None = None,
    workers: int = 1,
    connections: int = 100,
    timeout_s: float = 10.0,
    max_lag_ms: float = 100.0,
    fail_on: str | None = None,
    out: str | os.PathLike[str] | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """Replay ``run``'s events against ``target`` (an http(s) URL, or ``"builtin"`` for the reference
    backend, started for the replay): each customer in order, each event on time at ``speed``
    simulated seconds per real second, within ``window`` ("HH:MM-HH:MM") if given.

    Returns the summary (``summary.json``) with ``results``, its folder (by default
    ``RUN/replays/TIME``). Its ``valid`` and ``failed_reason`` say what the command's exit code says;
    ``exit_code`` is that code (0 passed, 1 failed, 3 invalid, 4 stopped at its time cap).
    """
    from parcours.loadtests.runner import ReplayOptions
    from parcours.loadtests.runner import replay as run_replay

    path = run.path if isinstance(run, Run) else Path(run)
    results = Path(out) if out is not None else new_replay_dir(path, dt.datetime.now(dt.UTC))
    options = ReplayOptions(
        run_dir=path,
        target=target,
        mapping=mapping,
        speed=speed,
        window=window,
        max_gap=max_gap,
        workers=workers,
        connections=connections,
        timeout_s=timeout_s,
        max_lag_ms=max_lag_ms,
        fail_on=fail_on,
        out=results,
        verbose=verbose,
        check=check,
    )
    code = run_replay(options, _say if verbose else _quiet, _say)
    summary: dict[str, Any] = dict(read_summary(results))
    return {**summary, RESULTS: str(results), "exit_code": code}


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _quiet(line: str) -> None:
    """The command's own lines (what it replays, the verdict): the summary returned says the same."""
