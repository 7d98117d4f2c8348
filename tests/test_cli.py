"""The command line, in-process with Click's runner and as a real process: output, errors, safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from parcours.cli.main import cli
from parcours.output.reader import Run
from tests.support import run_main

COMMANDS = [
    [],
    ["simulate"],
    ["personas"],
    ["personas", "list"],
    ["personas", "show"],
    ["scenarios"],
    ["scenarios", "list"],
    ["scenarios", "show"],
    ["validate"],
    ["report"],
    ["compare"],
    ["replay"],
    ["backend"],
    ["locustfile"],
]


@pytest.mark.parametrize("args", COMMANDS)
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_personas_list_names_the_four_personas_one_line_each() -> None:
    result = CliRunner().invoke(cli, ["personas", "list"])
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["office_worker", "traditional", "ultra_connected", "young"]


def test_personas_show_says_what_the_persona_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["personas", "show", "office_worker"], capsys)
    assert code == 0
    assert "desktop_web 50%" in out and "marketplace 25%" in out
    assert "commute" in out and "purchases per year" in out


def test_simulate_writes_a_run_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    code, stdout, stderr = run_main(
        ["simulate", "--customers", "300", "--seed", "2", "--out", str(out), "--no-progress"], capsys
    )
    assert code == 0, stderr
    assert f"wrote {out}" in stdout
    assert stderr == ""
    run = Run(out)
    assert run.manifest.counts.customers == 300
    assert run.manifest.scenario.integration == "omnichannel"
    assert run.manifest.seed == 2


def test_bare_simulate_runs_the_default_under_runs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "parcours", "simulate", "--customers", "200"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    made = list((tmp_path / "runs").iterdir())
    assert len(made) == 1 and made[0].name.startswith("omnichannel-")
    assert Run(made[0]).manifest.counts.customers == 200
    assert result.stderr == ""  # not a terminal: no progress display


def test_progress_is_shown_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run_main(["simulate", "-n", "300", "-o", str(tmp_path / "r"), "--progress"], capsys)
    assert code == 0
    assert "events/s" in stderr and "simulated" in stderr


BAD_ARGS = [
    (["simulate", "--customers", "0"], "--customers"),
    (["simulate", "--customers", "-5"], "--customers"),
    (["simulate", "--customers", "many"], "--customers"),
    (["simulate", "--scenario", "nowhere"], "nowhere: unknown scenario"),
    (["simulate", "--days", "0"], "--days"),
    (["simulate", "--start", "yesterday"], "--start"),
    (["simulate", "--workers", "0"], "--workers"),
    (["personas", "show", "nobody"], "nobody: unknown persona"),
    (["validate", "missing.toml"], "missing.toml: no such file"),
]


@pytest.mark.parametrize(("args", "named"), BAD_ARGS)
def test_mistakes_end_in_one_line_and_exit_code_2(
    tmp_path: Path,
    args: list[str],
    named: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # and back afterwards: the next test in this worker starts where it should
    code, out, err = run_main([*args, "--no-progress"] if args[0] == "simulate" else args, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert named in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_an_existing_directory_that_is_not_a_run_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("years of work")
    for extra in ([], ["--overwrite"]):
        code, _, err = run_main(
            ["simulate", "-n", "100", "-o", str(precious), "--no-progress", *extra], capsys
        )
        assert code == 2 and "is not a parcours run" in err
    assert (precious / "chapter1.txt").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_an_existing_run_is_replaced_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert run_main(["simulate", "-n", "100", "--seed", "1", "-o", str(out), "--no-progress"], capsys)[0] == 0
    code, _, err = run_main(["simulate", "-n", "150", "-o", str(out), "--no-progress"], capsys)
    assert code == 2 and "--overwrite" in err
    assert Run(out).manifest.counts.customers == 100
    assert run_main(["simulate", "-n", "150", "-o", str(out), "--no-progress", "--overwrite"], capsys)[0] == 0
    assert Run(out).manifest.counts.customers == 150
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_place_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_main(["simulate", "-n", "100", "-o", str(locked / "r"), "--no-progress"], capsys)
    assert code == 2 and "not writable" in err


def test_an_unwritable_place_is_refused_even_for_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_main(["simulate", "-n", "100", "-o", str(blocker / "r"), "--no-progress"], capsys)
    assert code == 2
    assert str(blocker) in err and "Traceback" not in err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_never_looks_finished(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    out = tmp_path / "big"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parcours",
            "simulate",
            "-n",
            "200000",
            "--days",
            "28",  # a month, about 7 s: one day was over in half a second, sometimes before the signal
            "-o",
            str(out),
            "--no-progress",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.partial-*/events/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert not out.exists()
    assert "Traceback" not in err.decode()
    assert not list(tmp_path.glob(".big.partial-*")), "the partial run is cleaned up"


def test_an_unexpected_error_is_one_line_exit_1_and_debug_shows_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import parcours.simulator.run.simulate

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(parcours.simulator.run.simulate, "simulate_run", broken)
    code, _, err = run_main(["simulate", "-n", "10", "-o", str(tmp_path / "r"), "--no-progress"], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "RuntimeError: a bug over two lines" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        run_main(["--debug", "simulate", "-n", "10", "-o", str(tmp_path / "r"), "--no-progress"], capsys)
