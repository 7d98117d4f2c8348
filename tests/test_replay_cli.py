"""`parcours replay` before any load: help, dry run, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from parcours.loadtests import summary as summaries
from parcours.cli.main import cli
from tests.replay_support import make_run
from tests.support import run_main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    make_run(out, customers=10, events=6, span_s=60)
    return out


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["replay", "--help"])
    assert result.exit_code == 0
    for option in (
        "--target",
        "--mapping",
        "--speed",
        "--window",
        "--max-gap",
        "--dry-run",
        "--workers",
        "--max-lag-ms",
        "--fail-on",
    ):
        assert option in result.output


def test_dry_run_prints_duration_rates_and_workers(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(
        ["replay", str(run_dir), "--target", "http://127.0.0.1:9", "--speed", "10", "--dry-run"], capsys
    )
    assert code == 0
    assert "60 events; 60 to send" in out
    assert "at --speed 10: 0:00:05 of replay" in out  # 50.3 s simulated / 10
    assert "requests/s: peak 10 " in out and "mean 10.0" in out
    assert "workers: 1 for the peak" in out
    assert not (run_dir / "replays").exists()  # a dry run sends and writes nothing


def bad_mapping(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[requests.login]\npath = "/login/{visble_id}"\n')
    return path


BAD_INPUT = {
    "missing run": (
        lambda run, tmp: ["replay", str(tmp / "nope"), "-t", "http://h"],
        "no such run directory",
    ),
    "unfinished run": (
        lambda run, tmp: ["replay", str(tmp), "-t", "http://h"],
        "not a finished parcours run",
    ),
    "bad mapping": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "-m", str(bad_mapping(tmp))],
        "bad.toml: requests.login.path: unknown field {visble_id}",
    ),
    "bad window": (lambda run, tmp: ["replay", str(run), "-t", "http://h", "--window", "9-5"], "--window: "),
    "bad fail-on": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "--fail-on", "p98=3"],
        "--fail-on: 'p98=3'",
    ),
    "bad max-gap": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "--max-gap", "soon"],
        "--max-gap: ",
    ),
    "bad target": (
        lambda run, tmp: ["replay", str(run), "-t", "localhost:8080"],
        "--target: expected an http",
    ),
    "bad speed": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "--speed", "0"],
        "--speed: must be positive",
    ),
    "bad workers": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "-w", "0"],
        "--workers: must be at least 1",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(
    case: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, words = BAD_INPUT[case]
    code, out, err = run_main(argv(run_dir, tmp_path), capsys)
    assert code == 2
    assert err.startswith("parcours: error: ") and err.count("\n") == 1, err
    assert words in err
    assert "Traceback" not in out + err


def test_the_cli_process_never_imports_locust_or_gevent(run_dir: Path) -> None:
    code = (
        "import sys\n"
        "from parcours.cli.main import main\n"
        f"try:\n    main(['replay', {str(run_dir)!r}, '-t', 'http://127.0.0.1:9', '--dry-run'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


SUMMARY = {
    "interrupted": False,
    "valid": True,
    "order_violations": 0,
    "events": {"error_rate": 0.02, "failed": 2, "not_sent": 0},
    "latency_ms": {
        m: {"p50": 5.0, "p99": 40.0, "max": 90.0} for m in ("lag", "schedule_lag", "service", "corrected")
    },
}


def test_fail_on_thresholds_set_the_exit_code() -> None:
    assert summaries.exit_code(SUMMARY, summaries.parse_fail_on("p99_ms=50,error_rate=0.05")) == 0
    crossed = summaries.parse_fail_on("p99_ms=30,service_max_ms=100")
    assert summaries.breaches(SUMMARY, crossed) == ["p99_ms 40 > 30"]
    assert summaries.exit_code(SUMMARY, crossed) == summaries.EXIT_FAILED
    assert summaries.exit_code({**SUMMARY, "valid": False}, []) == summaries.EXIT_INVALID
    assert summaries.exit_code({**SUMMARY, "interrupted": True}, crossed) == summaries.EXIT_INTERRUPTED


def test_the_lag_gate_reads_schedule_lag() -> None:
    assert summaries.gate({"schedule_lag": {"p99": 99.0}}, 100) == (True, None)
    valid, reason = summaries.gate({"schedule_lag": {"p99": 150.0}}, 100)
    assert not valid and reason is not None and reason.startswith("schedule lag p99 150.0 ms > 100 ms")
    json.dumps(SUMMARY)  # summaries are plain JSON
