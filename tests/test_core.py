"""``explain``'s figures, read from only the rows they rest on (``report/numbers/core.py``), are the
report's own to the bit: the same as ``summarise`` + ``headline`` + ``costs`` give, on real runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from parcours.errors import RunDirError
from parcours.output.economics import Terms, terms
from parcours.output.reader import Run
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
    others uncompressed: the same tables as a whole run's, and ``Run`` opens such a run only when told
    it has no customers part."""
    overrides = Overrides(customers=20000, seed=6)
    whole, partial = tmp_path / "whole", tmp_path / "partial"
    simulate_run("omnichannel", overrides, whole)
    simulate_run("omnichannel", overrides, partial, scratch=True)
    assert not (partial / "customers").exists()
    codecs = {
        pq.ParquetFile(p).metadata.row_group(0).column(0).compression for p in partial.rglob("*.parquet")
    }
    assert codecs == {"UNCOMPRESSED"}
    with pytest.raises(RunDirError):
        Run(partial)
    a, b = Run(whole), Run(partial, customers=False)
    assert a.events().equals(b.events()) and a.journeys().equals(b.journeys())
    assert a.manifest.counts == b.manifest.counts
    e = terms({})
    assert np.array_equal(figures_of(whole, e), figures_of(partial, e), equal_nan=True)
    assert_same(a, e)
