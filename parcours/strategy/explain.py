"""``parcours explain FROM TO``: run the capability combinations, replicate by replicate, and split the
difference in the headline figures into each capability's Shapley contribution, with 95% intervals.

Every combination runs the same replicate seeds (those of ``simulate --replicates`` with the same
``--seed``): common random numbers, so the differences between combinations are paired and their
intervals narrow. Each run is written to a work folder, its figures read back by the report's own
code (``report.numbers.core``: the figures ``parcours compare`` shows, from only the rows they rest
on), then removed; a run that is not kept is a scratch run (no customers part, parts as Arrow IPC streams),
a kept one an ordinary run directory.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from parcours.errors import ParcoursError
from parcours.output.economics import Terms, terms
from parcours.output.manifest import RunSetManifest
from parcours.output.reader import Run, ScratchRun
from parcours.output.runset import write_manifest
from parcours.report.numbers.bounds import COUNT, SHARE, SIGNED, Kind, bounded_mean
from parcours.report.numbers.core import core
from parcours.report.numbers.costs import margin, net_revenue_per_day
from parcours.report.numbers.intervals import Estimate, mean_interval
from parcours.report.numbers.kpis import TAKINGS
from parcours.scenarios import Scenario, get_scenario
from parcours.simulator.run.options import Overrides, check_workers
from parcours.simulator.run.replicates import check_replicates, replicate_seeds
from parcours.simulator.run.simulate import cores, simulate_run
from parcours.simulator.world.forecast import Forecast, remember, staffing_forecasts
from parcours.strategy.factors import Factor, combine, factors, other_differences, to_toml
from parcours.strategy.shapley import Coalitions, alone, plan, shapley

DEFAULT_TERMS = terms({})
OnRun = Callable[[int, int, str], None]  # runs finished, runs in all, what just finished


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # as report.kpis: "%" shown in % (differences in points), "€", "" a count or ratio
    kind: Kind = COUNT  # the range of the figure itself (its differences may take either sign)


FIGURES = (
    Figure("conversion", "Conversion (purchase journeys that bought)", "%", SHARE),
    Figure("revenue_eur_per_day", "Revenue (€ per day)", "€"),
    # refunds are of purchases made in the run (a return is decided when the purchase is made): >= 0
    Figure("net_revenue_eur_per_day", "Net revenue (purchases less refunds, € per day)", "€"),
    Figure("lost_sales_per_day", "Lost sales (journeys lost to a stock-out, per day)", ""),
    Figure("call_abandonment", "Calls abandoned (share of calls given up)", "%", SHARE),
    Figure("identities_per_person", "Distinct identities per person (ids the backend sees)", ""),
    Figure("margin_eur_per_day", "Gross margin less service costs (€ per day)", "€", SIGNED),
)
MARGIN = len(FIGURES) - 1
#: The report's headline key of each figure that is one (``kpis.TAKINGS``).
HEADLINE_KEYS = {
    "conversion": "journey_conversion",
    "revenue_eur_per_day": "revenue_eur_per_day",
    "lost_sales_per_day": "lost_sales_per_day",
    "call_abandonment": "call_abandonment",
}


def identities_per_person(run: Run) -> float:
    """Distinct visible ids per customer who shows any: 1.0 when every channel knows the same person."""
    ev = run.events(["customer_id", "visible_id"]).filter(pc.is_valid(pc.field("visible_id")))
    if ev.num_rows == 0:
        return float("nan")
    pairs = ev.group_by(["customer_id", "visible_id"]).aggregate([])
    return pairs.num_rows / len(pc.unique(pairs.column("customer_id")))


def figures_of(path: Path, economics: Terms, *, scratch: bool = False) -> np.ndarray:
    """The explained figures of one finished run, in FIGURES order: those its report and ``compare``
    show, computed by the same functions from only the rows they rest on (``numbers.core``), which
    are not in the customers part (``scratch``: a scratch run, written without it)."""
    run = ScratchRun(path) if scratch else Run(path, customers=False)
    c = core(run)
    values = []
    for f in FIGURES:
        if f.key == "identities_per_person":
            values.append(identities_per_person(run))
        elif f.key == "margin_eur_per_day":
            values.append(margin(c, c.work, economics))
        elif f.key == "net_revenue_eur_per_day":
            values.append(net_revenue_per_day(c))
        else:
            values.append(float(TAKINGS[HEADLINE_KEYS[f.key]](c)))
    return np.array(values, dtype=np.float64)


@dataclass(frozen=True)
class Job:
    coalition: int  # bit mask over the factors; -1: TO itself
    replicate: int
    seed: int
    label: str
    scenario_file: Path
    out: Path
    customers: int | None
    keep: bool
    economics: Terms
    forecasts: dict[str, Forecast] = field(default_factory=dict)  # its staffing's, made once
    threads: bool = True  # encode on writer threads: only where the runs at once leave a core to spare


def run_job(job: Job) -> np.ndarray:
    """One run of one combination and replicate, reduced to its figures (a module function: picklable)."""
    remember(job.forecasts)
    overrides = Overrides(customers=job.customers, seed=job.seed)
    # one process: the jobs are the parallel part. A run not kept is read once for figures that do not
    # read its customers part, then removed: written without that part (the identity strings: 0.1 s of
    # a 200,000-customer run) and as Arrow IPC (no Parquet to encode and decode: 0.1-0.2 s), its
    # figures the same
    simulate_run(str(job.scenario_file), overrides, job.out, scratch=not job.keep, threads=job.threads)
    try:
        return figures_of(job.out, job.economics, scratch=not job.keep)
    finally:
        if not job.keep:
            shutil.rmtree(job.out, ignore_errors=True)


@dataclass(frozen=True)
class Explanation:
    """Everything measured: the figures of each coalition per replicate, and what they add up to."""

    from_name: str
    to_name: str
    factors: list[Factor]
    other: list[str]
    plan: Coalitions
    customers: int
    root_seed: int
    seeds: list[int]
    values: dict[int, np.ndarray]  # coalition -> (replicates, figures); -1 is TO itself
    wall_time_s: float
    days: int = 1
    start: str = ""
    economics: Terms = DEFAULT_TERMS

    @property
    def to_values(self) -> np.ndarray:
        return self.values.get(-1, self.values[self.plan.full])

    def per_replicate(self) -> dict[str, np.ndarray]:
        """Per replicate and figure: total, Shapley values (k first), alone (k first), interaction, joint."""
        v = {m: a for m, a in self.values.items() if m >= 0}
        total = self.to_values - v[0]
        phi = shapley(self.plan, v) if self.plan.k else np.zeros((0, *total.shape))
        solo = alone(self.plan, v)
        return {
            "from": v[0],
            "to": self.to_values,
            "total": total,
            "shapley": phi,
            "alone": solo,
            "interaction": _exact_zero(total - phi.sum(axis=0), total),
            "joint": phi.sum(axis=0) - solo.sum(axis=0),
        }

    def estimates(self) -> Estimates:
        """Means over replicates with 95% intervals, figure by figure (and factor by factor)."""
        a = self.per_replicate()

        def per_figure(x: np.ndarray) -> list[Estimate]:
            return [mean_interval(x[:, n]) for n in range(len(FIGURES))]

        def bounded(x: np.ndarray) -> list[Estimate]:  # a figure itself: inside its range
            return [bounded_mean(x[:, n], f.kind) for n, f in enumerate(FIGURES)]

        return Estimates(
            from_=bounded(a["from"]),
            to=bounded(a["to"]),
            total=per_figure(a["total"]),
            interaction=per_figure(a["interaction"]),
            joint=per_figure(a["joint"]),
            shapley=[per_figure(x) for x in a["shapley"]],
            alone=[per_figure(x) for x in a["alone"]],
        )


@dataclass(frozen=True)
class Estimates:
    """Per figure (index n): the figure at FROM and TO, the total, the interaction and the joint
    effects; per factor i then figure n: its Shapley contribution and its effect alone."""

    from_: list[Estimate]
    to: list[Estimate]
    total: list[Estimate]
    interaction: list[Estimate]
    joint: list[Estimate]
    shapley: list[list[Estimate]]
    alone: list[list[Estimate]]


def _exact_zero(residue: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Floating-point residue of a sum that is zero by construction, shown as the zero it is."""
    return np.where(np.abs(residue) <= 1e-9 * np.maximum(np.abs(scale), 1.0), 0.0, residue)


def _scenario(name: str, what: str) -> Scenario:
    try:
        return get_scenario(name)
    except ParcoursError as exc:
        raise ParcoursError(f"{what}: {exc}") from None


@contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is None:
        tmp = Path(tempfile.mkdtemp(prefix="parcours-explain-"))
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise ParcoursError(f"--keep-runs: {keep} exists and is not an empty folder")
    keep.mkdir(parents=True, exist_ok=True)
    yield keep


def _combinations(
    from_sc: Scenario, to_sc: Scenario, p: Coalitions, found: list[Factor], other: bool
) -> Iterator[tuple[int, str, Scenario]]:
    """Each coalition's mask, words and scenario (and TO itself, mask -1, when other settings differ)."""
    for mask in p.coalitions():
        chosen = [f for i, f in enumerate(found) if mask >> i & 1]
        words = "FROM + " + " + ".join(f.name for f in chosen) if chosen else "FROM"
        yield mask, words, combine(from_sc, chosen, f"explain_c{mask:04d}")
    if other:
        yield -1, "TO", to_sc.model_copy(update={"name": "explain_to"})


def explain(
    from_name: str,
    to_name: str,
    *,
    customers: int | None = None,
    replicates: int = 3,
    seed: int | None = None,
    days: int | None = None,
    start: str | None = None,
    workers: int = 1,
    exact_up_to: int = 6,
    permutations: int = 12,
    keep_runs: Path | None = None,
    on_run: OnRun | None = None,
) -> Explanation:
    """Run every combination the split needs, ``replicates`` times each, and collect their figures."""
    check_replicates(replicates)
    if replicates < 2:
        raise ParcoursError(
            f"--replicates: explain needs at least 2 replicates to give an interval, not {replicates} "
            f"(3 or more to tell a capability from noise)"
        )
    check_workers(workers)
    size = Overrides(customers=customers, days=days, start=start)
    from_sc, to_sc = (size.apply(_scenario(n, w)) for n, w in ((from_name, "FROM"), (to_name, "TO")))
    root = from_sc.population.seed if seed is None else seed
    seeds = replicate_seeds(root, replicates)
    found = factors(from_sc, to_sc)
    other = other_differences(from_sc, to_sc)
    economics = terms(from_sc.economics.model_dump())  # the retailer as it is; the runs do not read them
    p = plan(len(found), exact_up_to=exact_up_to, permutations=permutations, seed=root)
    began = time.perf_counter()
    with _work_dir(keep_runs) as work:
        jobs: list[Job] = []
        named: dict[Path, str] = {}
        for mask, words, scenario in _combinations(from_sc, to_sc, p, found, bool(other)):
            folder = work / ("to" if mask < 0 else f"c{mask:04d}")
            folder.mkdir()
            named[folder] = words
            scenario_file = folder / "scenario.toml"
            scenario_file.write_text(to_toml(scenario), encoding="utf-8")
            for r, s in enumerate(seeds):
                label = f"{words}, replicate {r + 1}"
                jobs.append(
                    Job(
                        mask,
                        r,
                        s,
                        label,
                        scenario_file,
                        folder / f"rep-{r:03d}",
                        customers,
                        keep_runs is not None,
                        economics,
                        threads=workers < cores(),
                    )
                )
        results = _run_all(jobs, workers, on_run)
        if keep_runs is not None:  # each combination's folder becomes a run set `compare` reads
            for folder in sorted({j.scenario_file.parent for j in jobs}):
                manifest = RunSetManifest.of_seeds(
                    seeds, scenario=str(folder / "scenario.toml"), scenario_name=folder.name, root_seed=root
                )
                write_manifest(folder, manifest)
    values: dict[int, np.ndarray] = {}
    for job, figures in zip(jobs, results, strict=True):
        values.setdefault(job.coalition, np.zeros((replicates, len(FIGURES))))[job.replicate] = figures
    return Explanation(
        from_sc.name,
        to_sc.name,
        found,
        other,
        p,
        from_sc.population.customers,
        root,
        seeds,
        values,
        time.perf_counter() - began,
        from_sc.calendar.days,
        from_sc.calendar.start.isoformat(),
        economics,
    )


def settle() -> None:
    """A worker's start: the modules its runs need imported, then set aside from garbage collection.

    A run ends with a full collection (``run_shard``), which otherwise walks every object of every
    module loaded, run after run; frozen, they are skipped (``gc.freeze``: they live as long as the
    worker anyway)."""
    import pyarrow.parquet  # noqa: F401  (what the runs would import on their first use)
    import simpy  # noqa: F401

    gc.collect()
    gc.freeze()


def combination_forecasts(scenario_file: Path) -> dict[str, Forecast]:
    """The staffing forecasts of a combination's runs (the same for every replicate and size: a
    forecast plans its own reference sample), made once or read from the cache."""
    return staffing_forecasts(get_scenario(str(scenario_file)))


def _run_all(jobs: list[Job], workers: int, on_run: OnRun | None) -> list[np.ndarray]:
    """Run the jobs here (one worker) or in ``workers`` processes, reporting each one as it ends."""
    results: list[np.ndarray | None] = [None] * len(jobs)
    if workers == 1:
        for i, job in enumerate(jobs):
            results[i] = run_job(job)
            if on_run is not None:
                on_run(i + 1, len(jobs), job.label)
        return [r for r in results if r is not None]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=settle) as pool:
        # each combination's staffing forecasts once, in one process, for all its replicates
        files = list(dict.fromkeys(j.scenario_file for j in jobs))
        made = dict(zip(files, pool.map(combination_forecasts, files), strict=True))
        jobs = [replace(j, forecasts=made[j.scenario_file]) for j in jobs]
        pending: dict[Future[np.ndarray], int] = {pool.submit(run_job, j): i for i, j in enumerate(jobs)}
        done = 0
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                results[i] = future.result()
                done += 1
                if on_run is not None:
                    on_run(done, len(jobs), jobs[i].label)
    return [r for r in results if r is not None]
