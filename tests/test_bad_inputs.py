"""One line and exit code 2 for every bad input: one case per kind, each through the real entry point.

Each case checks the exit code, that the message is one line naming the argument, file or field, and
that nothing under the test's directory was written, replaced or deleted (tests/test_safety.py's
snapshot). The disk-full case runs parcours in a process whose file size limit is low (RLIMIT_FSIZE:
the kernel refuses the write with EFBIG, as a full disk refuses it with ENOSPC).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.replay_support import make_run
from tests.test_safety import refused, snapshot

EXAMPLES = Path(__file__).parents[1] / "examples"
SIMULATE = ["simulate", "--no-progress"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--shards", "3", "-n", "100"], "--shards"),  # one store, three shards
        (["--shards", "4", "-n", "5000"], "--shards"),  # three stores
        (["--workers", "1000", "-n", "100"], "--workers"),
        (["-n", "1000000000000"], "--customers"),
        (["-n", "0"], "--customers"),
        (["--start", "9999-12-31"], "--start"),
        (["--start", "1969-12-31"], "--start"),
    ],
)
def test_simulate_arguments(
    args: list[str], names: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before, after = refused([*SIMULATE, *args, "-o", str(tmp_path / "run")], names, tmp_path, capsys)
    assert after == before


def _spec_file(case: str, tmp_path: Path) -> tuple[Path, str]:
    """The broken file of ``case`` and the words its message must hold."""
    if case.startswith("number"):
        persona = (EXAMPLES / "senior.toml").read_text()
        assert "\nmean_basket_eur = " in persona
        # the example scenario uses the persona file beside it: simulate reads the broken one
        (tmp_path / "seaside_town.toml").write_text((EXAMPLES / "seaside_town.toml").read_text())
        value = case.removeprefix("number ")
        path = tmp_path / "senior.toml"
        path.write_text(
            "\n".join(
                f"mean_basket_eur = {value}" if line.startswith("mean_basket_eur") else line
                for line in persona.splitlines()
            )
        )
        return path, "finite number"
    path = tmp_path / "spec.toml"
    if case == "not UTF-8":
        path.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
        return path, "not UTF-8"
    if case == "link to /dev/zero":
        path.symlink_to("/dev/zero")
        return path, "not a regular file"
    else:
        path.write_text("# padding\n" * 200_000)  # 2 MB of comments: valid TOML, not a spec file
    return path, "larger than"


@pytest.mark.parametrize(
    "case", ["number 1e300", "number nan", "not UTF-8", "link to /dev/zero", "huge file"]
)
@pytest.mark.parametrize("verb", ["validate", "simulate"])
def test_spec_files(case: str, verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, words = _spec_file(case, tmp_path)
    if verb == "validate":
        args = ["validate", str(path)]
    else:
        scenario = tmp_path / "seaside_town.toml" if case.startswith("number") else path
        args = [*SIMULATE, "-s", str(scenario), "-o", str(tmp_path / "run")]
    err, before, after = refused(args, str(path), tmp_path, capsys)
    assert words in err
    if verb == "validate" and case.startswith("number"):
        assert "purchase.mean_basket_eur" in err
    assert after == before


def test_a_disk_that_fills_up_during_simulate(tmp_path: Path) -> None:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    before = snapshot(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "parcours", *SIMULATE, "-n", "20000", "-w", "2", "-o", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"--out {tmp_path / 'run'}: cannot write the run (File too large" in proc.stderr
    after = snapshot(tmp_path)
    after.pop("."), before.pop(".")  # the folder itself changed: the run was written in it, then removed
    assert after == before  # the unfinished run and its lock are gone, nothing else is touched


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay") / "run"
    make_run(out, customers=4, events=3)
    return out


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--speed", "nan"], "--speed"),
        (["--speed", "inf"], "--speed"),
        (["--speed", "0"], "--speed"),
        (["--timeout", "nan"], "--timeout"),
        (["--max-lag-ms", "nan"], "--max-lag-ms"),
        (["--fail-on", "p99_ms=nan"], "--fail-on"),
        (["--fail-on", "error_rate=-inf"], "--fail-on"),
        (["--workers", "1000"], "--workers"),
        (["--connections", "1000000"], "--connections"),
        (["--target", "http://"], "--target"),
        (["--target", "http://127.0.0.1:99999"], "--target"),
    ],
)
def test_replay_arguments(
    args: list[str], names: str, small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before_run = snapshot(small_run)
    argv = ["replay", str(small_run), "--target", "http://127.0.0.1:9", *args]
    _, before, after = refused(argv, names, tmp_path, capsys)
    assert after == before and snapshot(small_run) == before_run  # no replays/ folder either


def test_replay_out_is_a_file(small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "results").write_text("mine")
    argv = ["replay", str(small_run), "--target", "http://127.0.0.1:9", "--out", str(tmp_path / "results")]
    _, before, after = refused(argv, "--out", tmp_path, capsys)
    assert after == before


MAPPINGS = {
    "CRLF in a header": (
        'name = "m"\n[defaults]\nheaders = { X-A = "a\\r\\nX-Injected: 1" }\n[requests."*"]\npath = "/e"\n',
        "defaults.headers",
    ),
    "space in the path": ('name = "m"\n[requests."*"]\npath = "/e vents/{visible_id}"\n', "requests.*.path"),
    "no success status": ('name = "m"\n[requests."*"]\npath = "/e"\nsuccess = []\n', "requests.*.success"),
    "bad header name": (
        'name = "m"\n[requests."*"]\npath = "/e"\nheaders = { "X A" = "1" }\n',
        "requests.*.headers",
    ),
}


@pytest.mark.parametrize("case", sorted(MAPPINGS))
def test_mapping_mistakes(
    case: str, small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, field = MAPPINGS[case]
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text)
    argv = ["replay", str(small_run), "--target", "http://127.0.0.1:9", "--mapping", str(mapping)]
    err, before, after = refused(argv, f"{mapping}: {field}", tmp_path, capsys)
    assert after == before


def test_the_limits_are_not_reached_by_real_settings() -> None:
    """The bounds refuse typos, not settings: every built-in and example spec validates."""
    from parcours.cli.main import main

    files = [str(p) for p in EXAMPLES.glob("*.toml")]
    with pytest.raises(SystemExit) as exit_:
        main(["validate", *files])
    assert exit_.value.code in (0, None)
    assert os.path.exists(files[0])
