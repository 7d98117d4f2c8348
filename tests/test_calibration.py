"""Calibration: simulated runs of the default retailer pass `parcours realism`.

Four whole weeks and a day (Monday 2 November 2026 to Monday 30 November) of 5,000 customers of the
default omnichannel scenario, fixed seed. Every figure the contract checks is computed as its source
defines it and judged by its 95% interval (statistical tolerance, not a widened range); none may be
outside. The run is sized so the main figures are decisive, not "too few to check": online share of
revenue, online session conversion, cart abandonment, Saturday share of store visits and store-visit
conversion must each be checked (inside), so a model too small to show them does not pass by silence.
An ordinary Tuesday with 3,000 and with 60,000 customers must pass too, with the call figures of the
two days in agreement (staffing follows the ordinary forecast, not the size of the run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_main, simulate

#: Figures this run must be able to check: a month of 5,000 customers has enough of each.
DECISIVE = ("R1", "R5", "R6", "R7", "R16", "R20")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = simulate(
        tmp_path_factory.mktemp("runs") / "month",
        scenario="omnichannel",
        customers=5_000,
        days=29,
        start="2026-11-02",
        seed=2026,
    )
    return run.path


def test_a_month_of_the_default_retailer_is_inside_every_published_range(
    month: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["realism", str(month), "--format", "json"], capsys)
    doc = json.loads(out)
    verdicts = {f["id"]: f["verdict"] for f in doc["figures"]}
    shown = {f["id"]: (f["value"], f["interval_95"], f["range"]) for f in doc["figures"]}
    assert doc["outside"] == [], {k: shown[k] for k in doc["outside"]}
    assert code == 0, err
    assert all(verdicts[k] == "inside" for k in DECISIVE), {k: verdicts[k] for k in DECISIVE}


@pytest.fixture(scope="module")
def weekdays(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The issue's two ordinary weekdays: Tuesday 3 November 2026 with 3,000 and with 60,000 customers."""
    root = tmp_path_factory.mktemp("runs")
    return {
        n: simulate(
            root / f"day-{n}", scenario="omnichannel", customers=n, start="2026-11-03", seed=2026
        ).path
        for n in (3_000, 60_000)
    }


def test_an_ordinary_weekday_is_inside_at_3000_and_60000_customers(
    weekdays: dict[int, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    found = {}
    for n, path in weekdays.items():
        code, out, err = run_main(["realism", str(path), "--format", "json"], capsys)
        doc = json.loads(out)
        found[n] = {f["id"]: f for f in doc["figures"]}
        assert doc["outside"] == [] and code == 0, (n, doc["outside"], err)
    big = found[60_000]
    assert all(big[k]["verdict"] == "inside" for k in ("R5", "R6", "R11", "R16", "R20")), {
        k: big[k]["verdict"] for k in ("R5", "R6", "R11", "R16", "R20")
    }
    # Staffing follows the ordinary forecast, not --customers: the two days' call figures agree.
    for k in ("R10", "R11"):
        (lo3, hi3), (lo60, hi60) = (found[n][k]["interval_95"] or [0.0, 1.0] for n in (3_000, 60_000))
        assert lo3 <= hi60 and lo60 <= hi3, (k, found[3_000][k]["value"], big[k]["value"])
