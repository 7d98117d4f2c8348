"""`parcours replay` before any load: help, dry run, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from parcours.cli.main import cli
from parcours.loadtests import verdict as verdicts
from parcours.loadtests.runner import probe
from tests.replay_support import make_run, recording_server, refusing_port
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
        "--speed: must be a number above 0",
    ),
    "target without a host": (
        lambda run, tmp: ["replay", str(run), "-t", "http://"],
        "--target: 'http://' names no host",
    ),
    "target with a bad port": (
        lambda run, tmp: ["replay", str(run), "-t", "http://127.0.0.1:99999"],
        "--target: 'http://127.0.0.1:99999' is not a valid URL (Port out of range 0-65535)",
    ),
    "target with a space before the port": (
        lambda run, tmp: ["replay", str(run), "-t", "http://127.0.0.1 :9", "--dry-run"],
        "--target: 'http://127.0.0.1 :9': '127.0.0.1 ' is neither an IP address nor a host name",
    ),
    "target with an unclosed IPv6 literal": (
        lambda run, tmp: ["replay", str(run), "-t", "http://[::1:9", "--dry-run"],
        "--target: 'http://[::1:9' is not a valid URL (Invalid IPv6 URL)",
    ),
    "target with a query": (
        lambda run, tmp: ["replay", str(run), "-t", "http://[::1]:9/api?x=1", "--dry-run"],
        "a base URL has no spaces, query or fragment",
    ),
    "metrics port out of range": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "--metrics-port", "70000"],
        "--metrics-port: 70000 is not a port number",
    ),
    "check_violations without --check": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "--fail-on", "check_violations=0"],
        "--fail-on: check_violations needs --check",
    ),
    "bad workers": (
        lambda run, tmp: ["replay", str(run), "-t", "http://h", "-w", "0"],
        "--workers: must be between 1 and 64",
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


def test_a_target_where_nothing_listens_is_refused_at_once(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A closed loopback port: exit 2 from the probe, before any Locust process or results folder."""
    with refusing_port() as port:
        started = time.monotonic()
        code, out, err = run_main(["replay", str(run_dir), "-t", f"http://127.0.0.1:{port}"], capsys)
        took = time.monotonic() - started
    assert code == 2 and out == ""
    assert err == f"parcours: error: --target: nothing accepts connections at 127.0.0.1:{port} " + (
        "(Connection refused); is the backend up?\n"
    )
    assert took < 30  # the probe, not a replay of refusals (which took 83 s)
    assert not (run_dir / "replays").exists()


def test_the_probe_lets_a_listening_target_through() -> None:
    with recording_server() as (url, server):
        probe(url)
        probe(url + "/some/path")
    assert server.arrivals == []  # a TCP connection only: no request reaches the backend


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
    assert verdicts.exit_code(SUMMARY, verdicts.parse_fail_on("p99_ms=50,error_rate=0.05")) == 0
    crossed = verdicts.parse_fail_on("p99_ms=30,service_max_ms=100")
    assert verdicts.breaches(SUMMARY, crossed) == ["p99_ms 40 > 30"]
    assert verdicts.exit_code(SUMMARY, crossed) == verdicts.EXIT_FAILED
    assert verdicts.exit_code({**SUMMARY, "valid": False}, []) == verdicts.EXIT_INVALID
    assert verdicts.exit_code({**SUMMARY, "interrupted": True}, crossed) == verdicts.EXIT_INTERRUPTED


def test_a_replay_where_nothing_succeeded_fails_by_default() -> None:
    events = {"to_send": 60, "sent": 60, "ok": 0, "unanswered": 0}
    errors = {"by_kind": {"refused": 60}, "by_status": {}}
    reason = verdicts.nothing_succeeded(events, errors)
    assert reason == "no request succeeded: 60 sent, all failed (errors: refused 60)"
    assert verdicts.nothing_succeeded({**events, "sent": 0}, errors) == (
        "none of the 60 requests to send was sent"
    )
    assert verdicts.nothing_succeeded({**events, "ok": 1}, errors) is None
    assert verdicts.nothing_succeeded({**events, "to_send": 0, "sent": 0}, errors) is None
    failed = {**SUMMARY, "failed_reason": reason}
    assert verdicts.exit_code(failed, []) == verdicts.EXIT_FAILED
    assert verdicts.exit_code({**failed, "valid": False}, []) == verdicts.EXIT_FAILED
    assert verdicts.exit_code({**failed, "interrupted": True}, []) == verdicts.EXIT_INTERRUPTED


def test_the_lag_gate_reads_schedule_lag() -> None:
    assert verdicts.gate({"schedule_lag": {"p99": 99.0}}, 100) == (True, None)
    valid, reason = verdicts.gate({"schedule_lag": {"p99": 150.0}}, 100)
    assert not valid and reason is not None and reason.startswith("schedule lag p99 150.0 ms > 100 ms")
    json.dumps(SUMMARY)  # summaries are plain JSON
