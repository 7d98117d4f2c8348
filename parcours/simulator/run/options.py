"""What a run is asked to do, built once at the edge (the command line, explain, the tests) and passed
down whole: ``Overrides`` change the scenario's own settings, ``Execution`` says where its shards run.

Every bound on these options is stated and checked here, once, whatever the entry point.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from parcours.errors import ParcoursError
from parcours.output.manifest import MAX_SHARDS
from parcours.scenarios import Scenario
from parcours.specfile import check_date

#: The most customers a run may have: far beyond any retailer's population, and bounded so that a typo
#: (-n 1000000000000) is a one-line error rather than an allocation of terabytes.
MAX_CUSTOMERS = 1_000_000_000
#: The most local worker processes: each one holds a shard's state and a Python interpreter.
MAX_WORKERS = 64
#: Where shards can run (``executors.open_executor`` opens each).
EXECUTOR_NAMES = ("local", "dask")


def check_workers(workers: int, arg: str = "--workers") -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise ParcoursError(f"{arg}: must be between 1 and {MAX_WORKERS}, not {workers}")


@dataclass(frozen=True)
class Execution:
    """Where a run's shards execute: ``workers`` processes (or Dask workers) taking ``shards`` shards
    (None: ``default_shards``), locally or on a Dask cluster at ``scheduler``. Checked when made."""

    workers: int = 1
    shards: int | None = None
    executor: str = "local"
    scheduler: str | None = None

    def __post_init__(self) -> None:
        check_workers(self.workers)
        if self.shards is not None and not 1 <= self.shards <= MAX_SHARDS:
            raise ParcoursError(f"--shards: must be between 1 and {MAX_SHARDS:,}, not {self.shards:,}")
        if self.executor not in EXECUTOR_NAMES:
            raise ParcoursError(
                f"--executor: expected one of {', '.join(EXECUTOR_NAMES)}, not {self.executor!r}"
            )
        if self.scheduler is not None and self.executor != "dask":
            raise ParcoursError("--scheduler: only with --executor dask")


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that replace the scenario's."""

    customers: int | None = None
    seed: int | None = None
    days: int | None = None
    start: str | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        if self.customers is not None and not 0 < self.customers <= MAX_CUSTOMERS:
            raise ParcoursError(
                f"--customers: must be between 1 and {MAX_CUSTOMERS:,} customers, not {self.customers:,}"
            )
        if self.seed is not None and self.seed < 0:
            raise ParcoursError(f"--seed: must be zero or positive, not {self.seed}")
        if self.days is not None and not 0 < self.days <= 366:
            raise ParcoursError(f"--days: must be between 1 and 366, not {self.days}")
        population = scenario.population.model_copy(
            update={k: v for k, v in (("customers", self.customers), ("seed", self.seed)) if v is not None}
        )
        calendar = scenario.calendar
        if self.days is not None:
            calendar = calendar.model_copy(update={"days": self.days})
        if self.start is not None:
            try:
                start = dt.date.fromisoformat(self.start)
            except ValueError:
                raise ParcoursError(f"--start: expected a date as YYYY-MM-DD, not {self.start!r}") from None
            try:
                check_date(start)
            except ValueError as exc:
                raise ParcoursError(f"--start: {exc}") from None
            calendar = calendar.model_copy(update={"start": start})
        return scenario.model_copy(update={"population": population, "calendar": calendar})


#: One process, the default shard count: what a run gets when nothing is said.
ONE_PROCESS = Execution()
