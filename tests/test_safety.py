"""Never destroy what is not ours: every output path parcours refuses, and the runs whose parts do not
match their manifest.

Each case runs the real entry point and checks the exit code (2), that the message is one line naming
the argument or the file, and that nothing under the test's directory was written, replaced or
deleted (a snapshot of every entry's type, inode, size, time and content before and after).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from parcours.errors import RunDirError
from parcours.output.reader import Run
from parcours.output.rundir import RunWriter
from tests.support import made_manifest, run_main, simulate

Snapshot = dict[str, tuple[object, ...]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under ``root`` (links not followed): type and mode, inode, size, mtime, content."""
    seen: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files, "."]:
            path = Path(folder, name)
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                content: object = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            else:
                content = None  # a directory (its entries are listed), a FIFO (never opened)
            seen[str(path.relative_to(root))] = (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, content)
    return seen


def refused(
    args: list[str], names: str, root: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[str, Snapshot, Snapshot]:
    """Run a command that must be refused; the message, and the snapshots of ``root`` before and after."""
    before = snapshot(root)
    code, _, err = run_main(args, capsys)
    after = snapshot(root)
    assert code == 2, err
    assert err.startswith("parcours: error: ") and err.count("\n") == 1, err
    assert names in err and "Traceback" not in err
    return err, before, after


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base") / "run"
    simulate(out, customers=4000, workers=2)  # two stores: one per shard
    code = subprocess.run([sys.executable, "-m", "parcours", "report", str(out)], check=False).returncode
    assert code == 0 and (out / "report.html").is_file()  # a report of ours inside the run
    return out


@pytest.fixture()
def run(base_run: Path, tmp_path: Path) -> Path:
    """A fresh copy of a finished two-shard run, in this test's directory."""
    copy = tmp_path / "run"
    shutil.copytree(base_run, copy)
    return copy


SIMULATE = ["simulate", "-n", "50", "--no-progress", "-o"]


# ---- simulate --out --------------------------------------------------------------------------------


def test_simulate_refuses_dev_null_and_leaves_it_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = os.stat("/dev/null")
    before = set(os.listdir("/dev"))
    refused([*SIMULATE, "/dev/null"], "--out: /dev/null is a device file", tmp_path, capsys)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == device.st_rdev and after.st_ino == device.st_ino
    assert not [name for name in set(os.listdir("/dev")) - before if "null" in name]


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe")
    return tmp / "pipe"


def link_to_dir(tmp: Path) -> Path:
    (tmp / "mine").mkdir()
    (tmp / "mine" / "keep.txt").write_text("mine")
    (tmp / "link").symlink_to(tmp / "mine")
    return tmp / "link"


def link_to_run(tmp: Path) -> Path:
    (tmp / "link").symlink_to(tmp / "run")
    return tmp / "link"


def plain_file(tmp: Path) -> Path:
    (tmp / "notes.txt").write_text("mine")
    return tmp / "notes.txt"


def foreign_dir(tmp: Path) -> Path:
    (tmp / "photos").mkdir()
    (tmp / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    return tmp / "photos"


SIMULATE_OUT: dict[str, tuple[Callable[[Path], Path], list[str], str]] = {
    "fifo": (fifo, [], "is a FIFO"),
    "link to a directory": (link_to_dir, [], "is a symbolic link"),
    "link to a run, --overwrite": (link_to_run, ["--overwrite"], "is a symbolic link"),
    "regular file": (plain_file, ["--overwrite"], "is a file, not a run directory"),
    "directory that is not a run": (
        foreign_dir,
        ["--overwrite"],
        "is a directory that is not a parcours run",
    ),
    "inside a run's events": (lambda tmp: tmp / "run" / "events" / "new", [], "is inside the run"),
    "the current directory": (lambda tmp: Path("."), [], "names no directory of its own"),
    "inside a run": (lambda tmp: tmp / "run" / "new", ["--overwrite"], "is inside the run"),
    "a run, no --overwrite": (lambda tmp: tmp / "run", [], "is a run already; pass --overwrite"),
}


@pytest.mark.parametrize("case", sorted(SIMULATE_OUT))
def test_simulate_refuses_what_is_not_a_run_of_its_own(
    case: str, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, extra, words = SIMULATE_OUT[case]
    out = make(tmp_path)
    err, before, after = refused([*SIMULATE, str(out), *extra], words, tmp_path, capsys)
    assert f"--out: {out} " in err
    assert after == before


def test_overwrite_refuses_to_delete_a_file_parcours_did_not_write(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run / "notes.txt").write_text("my notes on this run")
    err, before, after = refused(
        [*SIMULATE, str(run), "--overwrite"],
        f"--overwrite: {run / 'notes.txt'} was not written",
        tmp_path,
        capsys,
    )
    assert after == before


def test_overwrite_says_what_goes_with_the_old_run(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run / "replays" / "20261203-101010").mkdir(parents=True)
    old = Run(run).manifest.created_at, Run(run).manifest.counts.customers
    code, _, err = run_main([*SIMULATE, str(run), "--overwrite"], capsys)
    assert code == 0, err
    (notice,) = [line for line in err.splitlines() if "--overwrite" in line]
    assert notice.startswith(f"parcours: --overwrite: replacing the run at {run} with the new one")
    assert "replays/ (1 replay(s))" in notice and "report.html" in notice
    assert Run(run).manifest.counts.customers == 50 != old[1]
    assert sorted(p.name for p in run.iterdir()) == ["customers", "events", "journeys", "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no partial or old directory left behind


HOLD_A_WRITER = """
import sys
from pathlib import Path
from parcours.output.rundir import RunWriter
writer = RunWriter(Path(sys.argv[1]))
print("writing", flush=True)
sys.stdin.readline()
writer.abort()
"""


def test_a_second_writer_into_the_same_out_fails_while_the_first_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "busy"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_WRITER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None and first.stdout.readline() == "writing\n"
        err, before, after = refused(
            [*SIMULATE, str(out), "--overwrite"],
            "is being written or replayed by another parcours process",
            tmp_path,
            capsys,
        )
        assert f"--out: {out} " in err and after == before  # the first writer's partial run untouched
    finally:
        assert first.stdin is not None
        first.stdin.write("\n")
        first.stdin.close()
        first.wait(timeout=30)
        if first.stdout is not None:
            first.stdout.close()
    assert code_of([*SIMULATE, str(out)], capsys) == 0  # the lock went with the first writer
    assert Run(out).manifest.counts.customers == 50


def test_what_appears_at_out_while_a_run_is_written_is_left_alone(tmp_path: Path) -> None:
    """The finish step checks --out again: a FIFO made there meanwhile stays, the new run is kept aside."""
    out = tmp_path / "late"
    writer = RunWriter(out)
    os.mkfifo(out)
    with pytest.raises(RunDirError, match=f"--out: {out} is a FIFO.*the new run is kept at {writer.tmp}"):
        writer.finish(made_manifest(out, events_per_shard=[0], first_ms=0, last_ms=0))
    assert stat.S_ISFIFO(out.lstat().st_mode)
    assert (writer.tmp / "run.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["late", writer.tmp.name])  # lock released


def code_of(args: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    return run_main(args, capsys)[0]


# ---- report and compare -o -----------------------------------------------------------------------


def link_to_report(tmp: Path) -> Path:
    (tmp / "link.html").symlink_to(tmp / "run" / "report.html")
    return tmp / "link.html"


def html_of_mine(tmp: Path) -> Path:
    (tmp / "index.html").write_text("<!DOCTYPE html><title>my page</title>")
    return tmp / "index.html"


REPORT_OUT: dict[str, tuple[Callable[[Path], Path], str]] = {
    "the run's manifest": (lambda tmp: tmp / "run" / "run.json", "is one of the run's own files"),
    "the run's journeys": (lambda tmp: tmp / "run" / "journeys.parquet", "is one of the run's own files"),
    "inside the run's events": (lambda tmp: tmp / "run" / "events" / "r.html", "is inside the run"),
    "fifo": (fifo, "is a FIFO"),
    "link to a report": (link_to_report, "is a symbolic link"),
    "a directory": (foreign_dir, "is a directory"),
    "a file of the user's": (html_of_mine, "exists and is not a file parcours wrote"),
}


@pytest.mark.parametrize("case", sorted(REPORT_OUT))
@pytest.mark.parametrize("verb", ["report", "compare"])
def test_report_and_compare_refuse_what_they_did_not_write(
    verb: str, case: str, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, words = REPORT_OUT[case]
    out = make(tmp_path)
    runs = [str(run), "--format", "json"] if verb == "report" else [str(run), str(run)]
    err, before, after = refused([verb, *runs, "-o", str(out)], words, tmp_path, capsys)
    assert f"--out: {out} " in err
    assert after == before


@pytest.mark.parametrize("device", ["/dev/null", "/dev/stdout"])
def test_report_refuses_devices_and_links_outside_the_test(
    device: str, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind = os.lstat(device).st_mode
    refused(["report", str(run), "-o", device], f"--out: {device} is a", tmp_path, capsys)
    assert os.lstat(device).st_mode == kind  # still the device, or still the link


def test_reports_replace_their_own_files_and_still_write_to_stdout(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = (run / "run.json").read_bytes()
    code, out, _ = run_main(["report", str(run), "--format", "json", "-o", "-"], capsys)
    assert code == 0 and out.startswith('{\n  "format_version"')
    (tmp_path / "r.json").write_text(out)  # a JSON document parcours wrote
    assert code_of(["report", str(run)], capsys) == 0  # over the base run's report.html
    assert code_of(["report", str(run), "--format", "json", "-o", str(tmp_path / "r.json")], capsys) == 0
    assert (run / "run.json").read_bytes() == manifest


# ---- replay --out ----------------------------------------------------------------------------------


REPLAY_OUT: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a file": (plain_file, "is a file, not a folder"),
    "fifo": (fifo, "is a FIFO"),
    "link to a directory": (link_to_dir, "is a symbolic link"),
    "a directory in use": (foreign_dir, "exists and is not empty"),
    "inside the run's events": (lambda tmp: tmp / "run" / "events" / "res", "is inside the run"),
}


@pytest.mark.parametrize("case", sorted(REPLAY_OUT))
def test_replay_refuses_a_results_folder_that_is_not_free(
    case: str, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, words = REPLAY_OUT[case]
    out = make(tmp_path)
    args = ["replay", str(run), "-t", "http://127.0.0.1:9", "--out", str(out)]
    err, before, after = refused(args, words, tmp_path, capsys)
    assert f"--out: {out} " in err
    assert after == before


# ---- runs whose parts do not match their manifest --------------------------------------------------


def stray_copy(run: Path) -> Path:
    shutil.copy(run / "events" / "part-00000.parquet", run / "events" / "part-00000 (1).parquet")
    return run / "events" / "part-00000 (1).parquet"


def extra_shard(run: Path) -> Path:
    shutil.copy(run / "events" / "part-00001.parquet", run / "events" / "part-00002.parquet")
    return run / "events" / "part-00002.parquet"


def missing_part(run: Path) -> Path:
    (run / "events" / "part-00001.parquet").unlink()
    return run / "events" / "part-00001.parquet"


def swapped_part(run: Path) -> Path:
    """Part 1 replaced by part 0's events: every part is there and readable, the counts are wrong."""
    shutil.copy(run / "events" / "part-00000.parquet", run / "events" / "part-00001.parquet")
    return run / "events" / "part-00001.parquet"


def truncated_part(run: Path) -> Path:
    part = run / "events" / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:-100])
    return part


def garbage_part(run: Path) -> Path:
    part = run / "events" / "part-00001.parquet"
    part.write_bytes(os.urandom(5000))
    return part


def zeroed_data(run: Path) -> Path:
    """Every data page zeroed, the footer intact: the part check passes, reading the data fails."""
    part = run / "events" / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    data[4 : len(data) - footer] = bytes(len(data) - footer - 4)
    part.write_bytes(bytes(data))
    return part


DAMAGE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "stray copy": (stray_copy, "not one of the run's 2 part(s)"),
    "extra shard": (extra_shard, "not one of the run's 2 part(s)"),
    "missing part": (missing_part, "missing; the run's manifest says it has 2 part(s)"),
    "miscounted part": (swapped_part, "run.json says"),
    "truncated part": (truncated_part, "not a readable Parquet file"),
    "garbage part": (garbage_part, "not a readable Parquet file"),
    "zeroed data": (zeroed_data, "damaged, cannot be read"),
}


@pytest.mark.parametrize("verb", ["report", "compare", "replay"])
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_readers_refuse_parts_that_do_not_match_the_manifest(
    case: str, verb: str, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, words = DAMAGE[case]
    named = damage(run)
    args = {
        "report": ["report", str(run)],
        "compare": ["compare", str(run), str(run), "-o", str(tmp_path / "c.html")],
        "replay": ["replay", str(run), "-t", "http://127.0.0.1:9"],
    }[verb]
    err, before, after = refused(args, f"{named}: ", tmp_path, capsys)
    assert words in err
    assert after == before  # no report, no replays/ folder


def test_a_part_count_is_read_from_the_footer_alone(run: Path) -> None:
    """The check costs one footer per part: the manifest's figures are the footers' row counts."""
    manifest = Run(run).manifest
    rows = [pq.read_metadata(p).num_rows for p in sorted((run / "events").iterdir())]
    assert rows == list(manifest.events_per_shard) and sum(rows) == manifest.counts.events
