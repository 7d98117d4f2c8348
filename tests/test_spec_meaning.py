"""Spec numbers and times are checked for what they mean, not only their type: a boolean is not a count,
24:30 is no time, a retailer without any channel is no retailer, and sizes stay within what fits in
memory. Each case is the built-in omnichannel scenario with one line changed, run through `validate`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parcours.output.manifest import MAX_SHARDS
from parcours.scenarios.spec import MAX_PRODUCTS, MAX_SERVED_CUSTOMERS
from parcours.vocabulary import Channel
from tests.replay_support import make_run
from tests.support import run_main

BUILTIN = Path(__file__).parents[1] / "parcours" / "scenarios" / "omnichannel.toml"
EVERY_CHANNEL = "[" + ", ".join(f'"{c}"' for c in Channel) + "]"

CASES = {
    "customers a boolean": (r"^customers = 200000$", "customers = true", "population.customers"),
    "customers a float": (r"^customers = 200000$", "customers = 2.5", "population.customers"),
    "seed a boolean": (r"^seed = 7$", "seed = false", "population.seed"),
    "days a boolean": (r"^days = 1$", "days = true", "calendar.days"),
    "serves_customers a boolean": (
        r"^serves_customers = 200000$",
        "serves_customers = true",
        "serves_customers",
    ),
    "products 1e9": (r"^stock_cover_days", "products = 1000000000\nstock_cover_days", "stores.products"),
    "products over the bound": (
        r"^stock_cover_days",
        f"products = {MAX_PRODUCTS + 1}\nstock_cover_days",
        "stores.products",
    ),
    "serves_customers 1e9": (
        r"^serves_customers = 200000$",
        "serves_customers = 1000000000",
        "call_centre.serves_customers",
    ),
    "a closing time of 24:30": (
        r'saturday = "09:30-19:30"',
        'saturday = "09:30-24:30"',
        "stores.week.saturday",
    ),
    "a campaign at 24:01": (r'^at = "\d\d:\d\d"', 'at = "24:01"', "campaigns[0].at"),
    "every channel taken out": (
        r"^\[population\]",
        f"without_channels = {EVERY_CHANNEL}\n\n[population]",
        "without_channels",
    ),
}


def edited(tmp_path: Path, pattern: str, line: str) -> Path:
    text, n = re.subn(pattern, line, BUILTIN.read_text(), count=1, flags=re.MULTILINE)
    assert n == 1, pattern
    path = tmp_path / "edited.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_spec_number_or_time_that_means_nothing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    pattern, line, field = CASES[case]
    path = edited(tmp_path, pattern, line)
    code, _, err = run_main(["validate", str(path)], capsys)
    assert code == 2, err
    assert err.startswith(f"parcours: error: {path}: ") and field in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize(
    ("pattern", "line"),
    [
        (r'saturday = "09:30-19:30"', 'saturday = "09:30-24:00"'),  # open until midnight: a time
        (r"^\[population\]", 'without_channels = ["store", "kiosk"]\n\n[population]'),
        (r"^stock_cover_days", f"products = {MAX_PRODUCTS}\nstock_cover_days"),
        (r"^serves_customers = 200000$", f"serves_customers = {MAX_SERVED_CUSTOMERS}"),
    ],
    ids=["24:00", "some channels out", "products at the bound", "serves_customers at the bound"],
)
def test_the_bounds_themselves_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str, line: str
) -> None:
    code, out, err = run_main(["validate", str(edited(tmp_path, pattern, line))], capsys)
    assert code == 0, err
    assert "ok" in out


def test_shards_beyond_what_a_manifest_may_say_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--shards` stops where reading a run would refuse the manifest: a run parcours writes it can read."""
    code, _, err = run_main(
        ["simulate", "-n", "10", "--shards", str(MAX_SHARDS + 1), "-o", str(tmp_path / "run")], capsys
    )
    assert code == 2 and f"--shards: must be between 1 and {MAX_SHARDS:,}" in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("verb", ["validate", "replay"])
def test_a_file_nested_20000_deep_is_one_line_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 20_000 + "1" + "]" * 20_000 + "\n")
    args = ["validate", str(deep)]
    if verb == "replay":
        run = tmp_path / "run"
        make_run(run)
        args = ["replay", str(run), "--dry-run", "--target", "http://127.0.0.1:9", "--mapping", str(deep)]
    code, _, err = run_main(args, capsys)
    assert code == 2 and f"{deep}: nested deeper than" in err and len(err.splitlines()) == 1, err
