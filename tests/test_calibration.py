"""Calibration: a simulated month of the default retailer passes `parcours realism`.

Four whole weeks and a day (Monday 2 November 2026 to Monday 30 November) of 5,000 customers of the
default omnichannel scenario, fixed seed. Every figure the contract checks is computed as its source
defines it and judged by its 95% interval (statistical tolerance, not a widened range); none may be
outside. The run is sized so the main figures are decisive, not "too few to check": online share of
revenue, online session conversion, cart abandonment, Saturday share of store visits and store-visit
conversion must each be checked (inside), so a model too small to show them does not pass by silence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_main, simulate

#: Figures this run must be able to check: a month of 5,000 customers has enough of each.
DECISIVE = ("R1", "R5", "R6", "R7", "R16", "R20")

pytestmark = [
    pytest.mark.slow,
    # Calibration lands with the behaviour branches (model, supply): on this branch the simulator is
    # still the uncalibrated one: a month is outside on R1, R4, R5, R6, R7, R10, R15, R16 and R20.
    # Strict: once the merge makes it pass, this marker fails the suite until it is removed.
    pytest.mark.xfail(strict=True, reason="calibrated behaviour lands with the model and supply branches"),
]


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
