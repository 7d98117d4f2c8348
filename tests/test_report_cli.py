"""``parcours report`` and ``parcours compare``: the page, the JSON, and refusals that damage nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from parcours.errors import ParcoursError
from parcours.output.files import write_atomic
from parcours.output.reader import Run
from parcours.report.numbers.kpis import KPIS, headline
from parcours.report.numbers.summary import summarise
from tests.report_support import random_content, write_run
from tests.support import run_main

SECTIONS = (
    "kpis",
    "channel-use",
    "transitions",
    "typology",
    "funnel",
    "revenue",
    "stockouts",
    "service",
    "stores",
    "realism",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    return [
        write_run(root / "a", random_content(seed=11, customers=120), name="alpha"),
        write_run(
            root / "b",
            random_content(seed=12, customers=90, days=2, start=dt.date(2026, 11, 28)),
            name="beta",
        ),
    ]


def assert_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page).replace("<!--", "")
    for src in re.findall(r'src="([^"]*)"', page):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"http" not in base64.b64decode(src.split(",", 1)[1])
    assert "<link" not in page and "<script" not in page and "@import" not in page


def test_report_writes_one_page_with_every_section(
    runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["report", str(runs[0])], capsys)
    assert code == 0, err
    page = (runs[0] / "report.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert page.count("<img ") >= 8
    assert_self_contained(page)
    k = headline(summarise(Run(runs[0])))
    assert f"{k['journey_conversion']:.1%}" in page  # the headline numbers are on the page


def test_compare_puts_runs_side_by_side_with_deltas(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare.html"
    code, _, err = run_main(["compare", str(runs[0]), str(runs[1]), "-o", str(out)], capsys)
    assert code == 0, err
    page = out.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert "beta vs alpha" in page
    a, b = (headline(summarise(Run(r))) for r in runs)
    points = (b["journey_conversion"] - a["journey_conversion"]) * 100
    assert f"{points:+.1f} pts" in page
    assert "weekend" in page  # the second run covers a Saturday and a Sunday
    assert_self_contained(page)


def test_compare_without_out_writes_beside_the_first_run(
    runs: list[Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # not where the runs are
    code, _, err = run_main(["compare", str(runs[0]), str(runs[1])], capsys)
    assert code == 0, err
    written = runs[0].parent / "compare.html"
    assert f"wrote {written}" in err
    assert "<section" in written.read_text() and not (tmp_path / "compare.html").exists()
    written.unlink()


def test_json_has_every_headline_number_and_the_deltas(
    runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["compare", str(runs[0]), str(runs[1]), "--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    a, b = (headline(summarise(Run(r))) for r in runs)
    assert [r["label"] for r in doc["runs"]] == ["alpha", "beta"]
    assert set(doc["runs"][0]["kpis"]) == {k.key for k in KPIS} | {"conversion"}  # renamed, kept
    assert doc["runs"][0]["kpis"]["conversion"] == doc["runs"][0]["kpis"]["journey_conversion"]
    for key, value in a.items():
        assert doc["runs"][0]["kpis"][key] == pytest.approx(value, abs=1e-6)
        assert doc["deltas"][0]["kpis"][key] == pytest.approx(b[key] - value, abs=1e-5)
    realism = doc["runs"][0]["realism"]
    assert {c["metric"] for c in realism} >= {"online_session_conversion", "call_abandonment"}
    assert all(c["source"] and c["id"] == c["id"].strip() and c["verdict"] for c in realism)


def test_report_json_to_a_file(runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "summary.json"
    code, _, _ = run_main(["report", str(runs[1]), "--format", "json", "-o", str(out)], capsys)
    assert code == 0
    assert json.loads(out.read_text())["runs"][0]["days"] == 2


@pytest.mark.parametrize("command", [["report"], ["compare"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main([*command, "--help"], capsys)
    assert code == 0 and "--format" in out and "--out" in out


def unfinished(tmp_path: Path, runs: list[Path]) -> Path:
    """A run directory whose writer never finished: the parts are there, the manifest is not."""
    path = tmp_path / "unfinished"
    shutil.copytree(runs[0], path)
    (path / "run.json").unlink()
    return path


@pytest.mark.parametrize(
    "args, names",
    [
        (["report", "{missing}"], "missing: no such run directory"),
        (["report", "{unfinished}"], "unfinished: not a finished parcours run"),
        (["compare", "{a}"], "at least two run directories, got 1"),
        (["compare", "{a}", "{missing}"], "missing: no such run directory"),
        (["report", "{a}", "-o", "{tmp}/no/such/dir/r.html"], "dir: no such directory"),
        (["report", "{a}", "-o", "{tmp}"], "is a directory"),
    ],
    ids=["missing", "unfinished", "one-run", "compare-missing", "no-parent", "out-is-dir"],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], names: str, runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = {"a": runs[0], "tmp": tmp_path, "missing": tmp_path / "missing"}
    if "{unfinished}" in args:
        where["unfinished"] = unfinished(tmp_path, runs)
    code, out, err = run_main([a.format(**where) for a in args], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("parcours: error: ") and names in err
    assert "Traceback" not in err and out == ""


def test_a_failed_report_leaves_the_previous_one_alone(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    code, _, _ = run_main(["compare", str(runs[0]), str(tmp_path / "missing"), "-o", str(out)], capsys)
    assert code == 2
    assert out.read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


PREVIOUS = "<!DOCTYPE html>\n<html><head><title>parcours report: the previous one</title></head></html>\n"


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.html"
    out.write_text(PREVIOUS)

    def disk_full(self: Path, *args: object, **kwargs: object) -> int:
        with self.open("w") as half:
            half.write("half a rep")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(ParcoursError, match="report.html: cannot write the report"):
        write_atomic(out, "<html>new</html>")
    monkeypatch.undo()
    assert out.read_text() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
