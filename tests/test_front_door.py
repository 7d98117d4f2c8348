"""The front door as a newcomer meets it: ``python -m parcours``, ``parcours backend``, Locust's own
command line on the installed locustfile, and example specs that work from any folder."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from parcours.cli.main import cli
from tests.support import run_main

EXAMPLES = Path(__file__).parents[1] / "examples"


def _run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parcours", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def test_python_dash_m_parcours_is_the_command_line() -> None:
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    for verb in ("simulate", "report", "compare", "replay", "backend", "locustfile", "locust"):
        assert f"  {verb} " in result.stdout


def test_replay_help_lists_the_fail_on_keys() -> None:
    text = " ".join(CliRunner().invoke(cli, ["replay", "--help"], terminal_width=200).output.split())
    for key in ("p99_ms", "error_rate", "errors", "order_violations", "not_sent", "service_"):
        assert key in text


def test_compare_help_says_it_needs_two_runs() -> None:
    text = " ".join(CliRunner().invoke(cli, ["compare", "--help"]).output.split())
    assert "at least two run directories" in text


def test_locustfile_prints_the_installed_locustfile() -> None:
    result = CliRunner().invoke(cli, ["locustfile"])
    assert result.exit_code == 0
    path = Path(result.output.strip())
    assert path.is_file() and path.name == "locustfile.py"
    assert "nodes.hook_into(events)" in path.read_text()


def test_locust_help_lists_the_replay_options() -> None:
    """Locust in its own process (gevent patches whatever imports it)."""
    result = _run("locust", "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--run-dir", "--speed", "--mapping", "--window", "--max-gap", "--fail-on"):
        lines = [line for line in result.stdout.splitlines() if line.strip().startswith(option)]
        assert len(lines) == 1, f"{option}: {lines}"  # listed once, though the locustfile loads twice


def test_backend_serves_until_terminated(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "parcours", "backend", "--port", "0", "--memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
            assert response.status == 200
            assert isinstance(json.load(response), dict)
        proc.terminate()
        proc.communicate(timeout=20)
        assert proc.returncode == 143  # SIGTERM: 143, as every parcours command (README)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_backend_on_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run("backend", "--memory", "--port", str(taken.getsockname()[1]), timeout=30)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--host/--port" in result.stderr


def test_the_examples_validate_and_run_from_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the scenario names its persona file relative to itself, not to here
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 2
    code, out, err = run_main(["validate", *map(str, files)], capsys)
    assert code == 0, err
    assert out.count(": ok (") == len(files)
    scenario = EXAMPLES / "seaside_town.toml"
    code, out, err = run_main(
        ["simulate", "-s", str(scenario), "-n", "400", "-o", "run", "--no-progress"], capsys
    )
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "senior" in json.dumps(manifest)
