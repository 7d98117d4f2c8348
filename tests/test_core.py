"""``explain``'s figures, read from only the rows they rest on (``report/numbers/core.py``), are the
report's own to the bit: the same as ``summarise`` + ``headline`` + ``costs`` give, on real runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from parcours.errors import RunDirError
from parcours.output.economics import Terms, terms
from parcours.output.reader import Run, ScratchRun
from parcours.report.numbers.costs import margin_per_day, net_revenue_per_day
from parcours.report.numbers.kpis import headline
from parcours.report.numbers.summary import summarise
from parcours.simulator.run.options import Overrides
from parcours.simulator.run.simulate import simulate_run
from parcours.strategy.explain import FIGURES, figures_of, identities_per_person
from tests.support import simulate

#: The figure the report gives for each of explain's, by explain's key.
REPORT = {
    "conversion": lambda s, h, e: h["journey_conversion"],
    "revenue_eur_per_day": lambda s, h, e: h["revenue_eur_per_day"],
    "net_revenue_eur_per_day": lambda s, h, e: net_revenue_per_day(s),
    "lost_sales_per_day": lambda s, h, e: h["lost_sales_per_day"],
    "call_abandonment": lambda s, h, e: h["call_abandonment"],
    "margin_eur_per_day": lambda s, h, e: margin_per_day(s, e),
}


def report_figures(run: Run, economics: Terms) -> np.ndarray:
    """explain's figures as the whole summary gives them (what explain computed before ``core``)."""
    s = summarise(run)
    h = headline(s)
    return np.array(
        [
            identities_per_person(run) if f.key == "identities_per_person" else REPORT[f.key](s, h, economics)
            for f in FIGURES
        ]
    )


def assert_same(run: Run, economics: Terms) -> np.ndarray:
    got, want = figures_of(run.path, economics), report_figures(run, economics)
    # bit for bit (NaN where the report has none): not approximately
    keys = [f.key for f in FIGURES]
    assert np.array_equal(got, want, equal_nan=True), dict(
        zip(keys, zip(got, want, strict=True), strict=True)
    )
    return got


def test_core_figures_are_the_summarys_on_a_day_on_one_shard_and_on_two(omni_run: Run) -> None:
    got = assert_same(omni_run, terms({}))
    assert not np.isnan(got).any()  # a 60,000-customer omnichannel day has calls, sales, returns
    # the run's own economics as well as the defaults
    assert_same(omni_run, terms(dict(omni_run.manifest.scenario.economics)))


def test_core_figures_are_the_summarys_over_a_week(week_run: Run) -> None:
    """Seven days: counts per hour divided by the days, then summed, as the summary does."""
    assert_same(week_run, terms({}))


@pytest.mark.parametrize("scenario", ["multichannel", "crosschannel"])
def test_core_figures_are_the_summarys_in_other_scenarios(tmp_path: Path, scenario: str) -> None:
    run = simulate(tmp_path / scenario, scenario, customers=8000, seed=3, days=2, start="2026-11-27")
    assert_same(run, terms({"gross_margin_rate": 0.31, "cost_per_return_eur": 7.5}))


@pytest.mark.parametrize("customers", [5, 40])
def test_a_run_with_no_calls_and_no_purchase_gives_the_summarys_nan(tmp_path: Path, customers: int) -> None:
    """A handful of customers: nobody calls, nobody buys (5: not one event; 40: journeys, no purchase);
    the figures that have no n are NaN alike, the sums zero alike."""
    run = simulate(tmp_path / "few", "multichannel", customers=customers, seed=1)
    got = dict(zip([f.key for f in FIGURES], assert_same(run, terms({})), strict=True))
    assert np.isnan(got["call_abandonment"]) and got["revenue_eur_per_day"] == 0


def test_a_scratch_run_has_the_same_events_journeys_and_figures(tmp_path: Path) -> None:
    """explain's runs that are not kept skip the customers part, which no figure reads, and write the
    others as Arrow IPC streams, read without decoding: the same tables as a whole run's, read only by
    ``ScratchRun``, and the same figures."""
    overrides = Overrides(customers=20000, seed=6)
    whole, partial = tmp_path / "whole", tmp_path / "partial"
    simulate_run("omnichannel", overrides, whole)
    simulate_run("omnichannel", overrides, partial, scratch=True)
    assert not (partial / "customers").exists()
    assert not list(partial.rglob("*.parquet"))
    assert sorted(p.relative_to(partial).as_posix() for p in partial.rglob("*.arrow")) == [
        "events/part-00000.arrow",
        "journeys/part-00000.arrow",
    ]
    with pytest.raises(RunDirError):
        Run(partial, customers=False)
    a, b = Run(whole), ScratchRun(partial)
    assert a.events().equals(b.events()) and a.journeys().equals(b.journeys())
    assert a.events(["ts", "visible_id"]).equals(b.events(["ts", "visible_id"]))
    batches = [pa.Table.from_batches(list(r.iter_event_batches(columns=["seq", "channel"]))) for r in (a, b)]
    assert batches[0].equals(batches[1])
    assert a.manifest.counts == b.manifest.counts
    with pytest.raises(RunDirError, match="no customers part"):
        b.customers()
    e = terms({})
    assert np.array_equal(figures_of(whole, e), figures_of(partial, e, scratch=True), equal_nan=True)
    assert_same(a, e)


def test_a_scratch_run_that_lost_rows_or_a_part_is_refused(tmp_path: Path) -> None:
    """A scratch part with fewer rows than the manifest counts, or none, is one line naming it."""
    run = tmp_path / "r"
    simulate_run("omnichannel", Overrides(customers=5000, seed=2), run, scratch=True)
    part = run / "journeys" / "part-00000.arrow"
    table = pa.ipc.open_stream(part.read_bytes()).read_all()  # a copy: the file is rewritten below
    with pa.ipc.new_stream(part, table.schema) as short:
        short.write_table(table.slice(1))
    with pytest.raises(RunDirError, match="counts.journeys"):
        ScratchRun(run)
    part.unlink()
    with pytest.raises(RunDirError, match="missing"):
        ScratchRun(run)
