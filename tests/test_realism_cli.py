"""``parcours realism RUN``: exit 0 when every checkable figure is inside, 1 when one is outside, 2 for
bad input; text and JSON say the same; the report's realism panel shows the same findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parcours.output.reader import Run
from parcours.report.pages.build import html_report, summarise_all
from parcours.report.pages.jsondoc import json_report
from tests.realism_support import calibrated_day
from tests.support import run_main


@pytest.fixture(scope="module")
def inside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return calibrated_day(tmp_path_factory.mktemp("r") / "inside")


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same day with the issue's online session conversion: 330 orders in 2,000 sessions."""
    return calibrated_day(tmp_path_factory.mktemp("r") / "outside", own_site_orders=330)


def figures(out: str) -> dict[str, dict[str, object]]:
    return {f["id"]: f for f in json.loads(out)["figures"]}


def test_all_inside_exits_0_with_not_checkable_and_too_few_figures_shown(
    inside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["realism", str(inside), "--format", "json"], capsys)
    assert code == 0, err
    found = figures(out)
    assert json.loads(out)["outside"] == []
    assert found["R5"]["verdict"] == "inside" and found["R5"]["value"] == pytest.approx(0.025)
    assert (found["R5"]["numerator"], found["R5"]["denominator"]) == (50, 2_000)
    assert found["R1"]["verdict"] == "not checkable on this run" and "28 days" in str(found["R1"]["reason"])
    assert found["R4"]["verdict"] == "too few to check"  # 8 stock-outs in 168 attempts
    assert found["PURCHASES"]["verdict"] == "input" and found["R23"]["verdict"] == "shown"
    assert all(f["source"] and f["period"] and f["population"] for f in found.values())


def test_one_figure_outside_exits_1_and_names_it(outside: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["realism", str(outside)], capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("OUTSIDE"))
    assert "R5" in line and "16.5%" in line
    assert "Monetate" in out and "period: a quarter" in out
    assert out.rstrip().splitlines()[-1].startswith("1 outside")
    code, out, _ = run_main(["realism", str(outside), "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["outside"] == ["R5"]


def test_text_says_which_range_is_an_assumption(inside: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_main(["realism", str(inside)], capsys)
    block = out.split("R20 ")[1].split("\n\n")[0]
    assert "note: The whole 1-10% range is an assumption" in " ".join(block.split())


def test_output_file_is_written_and_a_foreign_file_is_kept(
    inside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "realism.json"
    code, _, err = run_main(["realism", str(inside), "--format", "json", "-o", str(out)], capsys)
    assert code == 0 and "wrote" in err and figures(out.read_text())["R5"]["verdict"] == "inside"
    code, _, _ = run_main(["realism", str(inside), "-o", str(out)], capsys)  # ours: replaced
    assert code == 0 and out.read_text().startswith("parcours realism: ")
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my notes\n")
    code, _, err = run_main(["realism", str(inside), "-o", str(foreign)], capsys)
    assert code == 2 and "not a file parcours wrote" in err and "Traceback" not in err
    assert foreign.read_text() == "my notes\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["realism", "/nonexistent/run"], "no such run directory"),
        (["realism", "{run}", "--format", "xml"], "Invalid value for '--format'"),
        (["realism", "{run}", "-o", "/nonexistent/dir/out.txt"], "no such directory"),
    ],
    ids=["missing-run", "bad-format", "bad-out"],
)
def test_bad_input_exits_2_with_one_line(
    inside: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main([a.format(run=inside) for a in args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and not out


def test_report_panel_and_json_hold_the_same_findings(inside: Path, outside: Path) -> None:
    runs = summarise_all([Run(inside), Run(outside)])
    page = html_report(runs)
    panel = page.split('<section id="realism">')[1]
    assert panel.count('class="outside"') == 1 and "16.5%" in panel
    assert "Store customers who gave up waiting for staff" in panel
    doc = json.loads(json_report(runs))
    verdicts = [{f["id"]: f["verdict"] for f in r["realism"]} for r in doc["runs"]]
    assert verdicts[0]["R5"] == "inside" and verdicts[1]["R5"] == "outside"
    assert doc["runs"][0]["kpis"]["journey_conversion"] == doc["runs"][0]["kpis"]["conversion"]


def test_help_says_what_the_exit_codes_mean() -> None:
    from click.testing import CliRunner

    from parcours.cli.main import cli

    result = CliRunner().invoke(cli, ["realism", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "1 when at least one is outside" in " ".join(result.output.split())
