"""Files parcours did not create are never removed, inputs are regular files, and the signals that end a
command (SIGTERM, SIGHUP when a terminal closes, SIGQUIT) clean up alike. Real files, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.replay_support import make_run, recording_server

WAIT = 120.0  # seconds: only a hang takes this long


def parcours(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "parcours", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{proc.args} still running after {WAIT:g} s")
    return proc.returncode, err


def wait_for(found: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not callable(found) or not found():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {WAIT:g} s")
        time.sleep(0.1)


@pytest.mark.parametrize("content", ["my own notes\n", "", "12 monkeys\n"], ids=["text", "empty", "almost"])
def test_a_foreign_file_at_the_lock_path_is_refused_and_kept(tmp_path: Path, content: str) -> None:
    lock = tmp_path / ".run.parcours-lock"
    lock.write_text(content)
    code, err = finish(parcours("simulate", "-n", "20", "-o", str(tmp_path / "run"), "--no-progress"))
    assert code == 2, err
    assert str(lock) in err and len(err.strip().splitlines()) == 1, err
    assert lock.read_text() == content
    assert not (tmp_path / "run").exists()


def test_a_fifo_at_the_lock_path_is_refused_without_waiting(tmp_path: Path) -> None:
    lock = tmp_path / ".run.parcours-lock"
    os.mkfifo(lock)
    code, err = finish(parcours("simulate", "-n", "20", "-o", str(tmp_path / "run"), "--no-progress"))
    assert code == 2 and str(lock) in err and "FIFO" in err, err
    assert lock.is_fifo()


def test_a_lock_a_killed_run_left_is_taken_and_removed(tmp_path: Path) -> None:
    """A lock file holding a pid is parcours's own: the next run takes it over and removes it at the end."""
    lock = tmp_path / ".run.parcours-lock"
    lock.write_text("999999999\n")
    code, err = finish(parcours("simulate", "-n", "20", "-o", str(tmp_path / "run"), "--no-progress"))
    assert code == 0, err
    assert not lock.exists() and (tmp_path / "run" / "run.json").is_file()


def test_simulate_overwrite_does_not_delete_a_replay_being_written(tmp_path: Path) -> None:
    run = tmp_path / "run"
    make_run(run, customers=5, events=20, span_s=600.0)
    with recording_server() as (url, _):
        replay = parcours("replay", str(run), "--target", url, "--speed", "1")
        try:
            wait_for(lambda: any((run / "replays").glob("*")), "results folder")
            results = next((run / "replays").iterdir())
            code, err = finish(
                parcours("simulate", "-n", "20", "-o", str(run), "--overwrite", "--no-progress")
            )
            assert code == 2 and "replayed by another parcours process" in err, err
            assert results.is_dir() and (run / "run.json").is_file()
        finally:
            replay.send_signal(signal.SIGINT)
            finish(replay)
    assert results.is_dir()
    assert not (tmp_path / ".run.parcours-lock").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{fifo}"],
        ["simulate", "--scenario", "{fifo}", "-o", "{tmp}/run"],
        ["replay", "{run}", "--dry-run", "--target", "http://127.0.0.1:9", "--mapping", "{fifo}"],
    ],
    ids=["validate", "simulate", "replay"],
)
def test_an_input_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path, args: list[str]) -> None:
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    run = tmp_path / "made"
    make_run(run)
    code, err = finish(parcours(*(a.format(fifo=fifo, tmp=tmp_path, run=run) for a in args)))
    assert code == 2 and f"{fifo}: not a regular file" in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name)
def test_a_signal_during_simulate_cleans_up_like_sigterm(tmp_path: Path, sig: signal.Signals) -> None:
    """The run is stopped while it writes: its lock and .partial folder go, and the exit code is 128+sig."""
    out = tmp_path / "run"
    # a month (about 25 s on 2 cores): one day is over in a second, and a run that ended between the
    # check below and the signal left its finished run behind
    proc = parcours("simulate", "-n", "600000", "--days", "28", "-o", str(out), "--no-progress")
    wait_for(lambda: any(tmp_path.glob(".run.partial-*")) or proc.poll() is not None, "partial folder")
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be stopped")
    proc.send_signal(sig)
    code, err = finish(proc)
    assert code == 128 + sig, err
    assert err.strip().splitlines()[-1].startswith("parcours: terminated"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_an_interruption_a_library_turned_into_its_own_error_still_ends_as_terminated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pydantic-core, building a schema while SIGTERM arrives, reports the interruption as a SchemaError
    of its own (no cause kept): the command still ends as terminated, not as an unexpected error."""
    from parcours.cli import main as front

    def wrapped() -> None:
        try:
            front._on_signal(signal.SIGTERM, None)
        except KeyboardInterrupt as exc:
            text = f"Error building validator: {type(exc).__name__}: {exc}"
        raise ValueError(text)  # raised outside the handler: no __context__ to follow

    try:
        with pytest.raises(SystemExit) as ended:
            try:
                wrapped()
            except ValueError as exc:
                front._end_if_stopped(exc)
    finally:
        front._received.clear()  # as main() does when it starts
    assert ended.value.code == 143
    assert capsys.readouterr().err.strip() == "parcours: terminated"
    assert front._stopped(ValueError("no signal")) is None  # no signal received: a plain error
