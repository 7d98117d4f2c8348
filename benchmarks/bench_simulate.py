"""Benchmark ``parcours simulate`` against a behaviour-free SimPy loop, in one run on one machine.

Each figure comes from a child process (``python -m parcours simulate ... --no-progress``,
``benchmarks/bare_simpy.py`` or ``benchmarks/naive_simpy.py``) timed by wall clock from start to exit,
with the peak of the summed resident memory of the child and all its descendants, sampled every 20 ms,
and the CPU seconds of the whole process tree. Ratios compare runs made in this same invocation, so the
machine's state is shared by both sides of every ratio. It prints the figures of the speed targets
(DESIGN.md, issue 16):

- 1,000,000 customers, one worker, against the behaviour-free SimPy loop of the same file shape
  (``bare_simpy.py``): at least 3x faster;
- ``--workers 2`` against one worker at 1,000,000 customers: at least 1.6x;
- ``--file 30000000``: per-customer cost within 1.15x of 1,000,000 customers (both ``--workers 2``),
  peak memory under 3 GB, wall under 60 s, and the bare loop at that size for the record (takes
  minutes: by flag; ``--no-file-bare`` skips the bare loop);
- ``--month``: 28 days of 1,000,000 customers, ``--workers 2``, under 30 s;
- ``--explain``: ``parcours explain multichannel omnichannel --workers 2`` (its defaults), under 45 s;
- imports (``python -X importtime``) of ``parcours --help`` and of a small ``simulate``: under 0.3 s.

    python benchmarks/bench_simulate.py                          # the 1M figures and imports
    python benchmarks/bench_simulate.py --customers 100000       # while developing
    python benchmarks/bench_simulate.py --file 30000000 --month --explain   # everything (many minutes)
    python benchmarks/bench_simulate.py --profile-customers 1000000         # and a cProfile of one worker
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
TARGET_VS_BARE = 3.0
TARGET_SPEEDUP = 1.6
TARGET_PEAK_MB = 2048
TARGET_PER_CUSTOMER = 1.15
TARGET_FILE_WALL_S = 60.0
TARGET_FILE_PEAK_MB = 3 * 1024
TARGET_MONTH_S = 30.0
TARGET_EXPLAIN_S = 45.0
TARGET_IMPORT_S = 0.3
LAST_CPU_S = 0.0


@dataclass(frozen=True)
class Measure:
    label: str
    customers: int
    events: int
    wall_s: float
    peak_mb: float
    cpu_s: float = 0.0  # user + system seconds of the whole process tree

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s

    @property
    def us_per_customer(self) -> float:
        return 1e6 * self.wall_s / self.customers


#: How often the process tree's memory is read. Each reading walks /proc (about 1 ms of CPU): every
#: 20 ms, as before, took a twentieth of a core from the runs measured on two cores.
POLL_S = 0.1


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float, str, str]:
    """Wall seconds, peak tree RSS in MB, stdout and stderr of a child process; fails loudly if it fails.

    The tree's CPU seconds (every process waited for: the child and, through it, its workers) are
    left in ``LAST_CPU_S``: on a shared machine they say what the wall time would be on a quiet one.
    """
    global LAST_CPU_S
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(root))
        time.sleep(POLL_S)
    wall = time.perf_counter() - began
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_S = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"benchmark step failed ({' '.join(cmd)}):\n{err}")
    return wall, peak / 2**20, out, err


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        for p in [root, *root.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        pass
    return total


def parcours(
    customers: int, workers: int, work: Path, seed: int, scenario: str, extra: tuple[str, ...] = ()
) -> Measure:
    out = work / f"parcours-{customers}-w{workers}"
    cmd = [sys.executable, "-m", "parcours", "simulate", "--customers", str(customers)]
    cmd += ["--scenario", scenario, "--seed", str(seed), "--workers", str(workers), *extra]
    wall, peak, _, _ = run_measured([*cmd, "--out", str(out), "--overwrite", "--no-progress"], work)
    manifest = json.loads((out / "run.json").read_text())
    shutil.rmtree(out)
    label = f"parcours --workers {workers}" + "".join(f" {x}" for x in extra)
    if manifest["shards"] != workers:
        label += f" ({manifest['shards']} shards)"
    return Measure(label, customers, manifest["counts"]["events"], wall, peak, LAST_CPU_S)


def bare(customers: int, work: Path, seed: int) -> Measure:
    out = work / f"bare-{customers}"
    cmd = [sys.executable, str(HERE / "bare_simpy.py"), "--customers", str(customers)]
    wall, peak, stdout, _ = run_measured([*cmd, "--seed", str(seed), "--out", str(out)], work)
    shutil.rmtree(out)
    return Measure("bare SimPy loop", customers, json.loads(stdout)["events"], wall, peak, LAST_CPU_S)


def naive(customers: int, work: Path, seed: int, scenario: str) -> Measure:
    out = work / f"naive-{customers}.parquet"
    cmd = [sys.executable, str(HERE / "naive_simpy.py"), "--customers", str(customers)]
    cmd += ["--scenario", scenario]
    wall, peak, stdout, _ = run_measured([*cmd, "--seed", str(seed), "--out", str(out)], work)
    out.unlink()
    return Measure("naive SimPy", customers, json.loads(stdout)["events"], wall, peak, LAST_CPU_S)


def explain(work: Path, cached: bool) -> Measure:
    """Explain with an empty forecast cache of its own (its 58 combinations' forecasts computed), or
    again with the forecasts that run left there."""
    out = work / "explain.html"
    cmd = [sys.executable, "-m", "parcours", "explain", "multichannel", "omnichannel", "--workers", "2"]
    cache = work / "forecast-cache"
    if not cached:
        shutil.rmtree(cache, ignore_errors=True)
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        wall, peak, _, _ = run_measured([*cmd, "-o", str(out), "--no-progress"], work)
    finally:
        os.environ.pop("XDG_CACHE_HOME")
        if before is not None:
            os.environ["XDG_CACHE_HOME"] = before
    out.unlink()
    label = "explain --workers 2, forecasts " + ("cached" if cached else "computed")
    return Measure(label, 0, 0, wall, peak, LAST_CPU_S)


def import_seconds(args: list[str], work: Path) -> float:
    """Seconds spent importing modules in ``python -X importtime -m parcours ARGS`` (sum of 'self')."""
    _, _, _, err = run_measured([sys.executable, "-X", "importtime", "-m", "parcours", *args], work)
    total = 0
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line:
            cell = line.split(":", 1)[1].split("|")[0].strip()
            if cell.isdigit():
                total += int(cell)
    return total / 1e6


def imports(work: Path) -> dict[str, float]:
    """Import time of ``parcours --help`` and of a small simulate (every import the run makes), best of 3.

    parcours's bytecode is compiled first, as an installed parcours's is (pip compiles it at install):
    under PYTHONDONTWRITEBYTECODE, which this machine's shells set, an editable install compiles its 65
    modules again on every run (about 0.2 s of the simulate's figure), which no installed copy does.
    """
    package = importlib.util.find_spec("parcours")
    assert package is not None and package.submodule_search_locations
    run_measured([sys.executable, "-m", "compileall", "-q", *package.submodule_search_locations], work)
    out = str(work / "imports-run")
    simulate = ["simulate", "-n", "2000", "--seed", "1", "-o", out, "--overwrite", "--no-progress"]
    figures = {
        "parcours --help": min(import_seconds(["--help"], work) for _ in range(3)),
        "parcours simulate -n 2000": min(import_seconds(simulate, work) for _ in range(3)),
    }
    shutil.rmtree(out)
    return figures


def profile(customers: int, work: Path, seed: int, scenario: str, top: int = 18) -> str:
    """cProfile of one in-process shard (workers 1): where the time goes, by own time and cumulative."""
    prof, out = work / "simulate.prof", work / "profiled-run"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "parcours", "simulate"]
    run_measured(
        [*cmd, "-n", str(customers), "-s", scenario, "--seed", str(seed), "-o", str(out), "--overwrite"]
        + ["--no-progress", "--workers", "1"],
        work,
    )
    shutil.rmtree(out)
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"cProfile, {customers:,} customers, workers 1: {total:.1f} s under the profiler", ""]
    lines += ["own time (tottime), top entries:"]
    lines += _top(stats, "tottime", top, total)
    lines += ["", "cumulative time, parcours functions:"]
    lines += _top(stats, "cumulative", top, total, only="parcours/")
    return "\n".join(lines)


def _top(stats: pstats.Stats, key: str, n: int, total: float, only: str = "") -> list[str]:
    rows = []
    for (path, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if only and only not in path:
            continue
        where = f"{_short(path)}:{line}({func})"
        rows.append((tottime if key == "tottime" else cumtime, calls, where))
    rows.sort(reverse=True)
    return [f"  {t:7.2f} s {100 * t / total:5.1f}%  {calls:>9}  {where}" for t, calls, where in rows[:n]]


def _short(path: str) -> str:
    for marker in ("site-packages/", "parcours/"):
        if marker in path:
            return ("" if marker == "site-packages/" else "parcours/") + path.split(marker, 1)[1]
    return path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = psutil.virtual_memory().total / 2**30
    libs = ", ".join(f"{m} {version(m)}" for m in ("parcours", "simpy", "numpy", "pyarrow"))
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram:.0f} GB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {libs}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def runs_table(measures: list[Measure]) -> list[str]:
    lines = [
        "| run | customers | events | wall s | CPU s | events/s | us per customer | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        if not m.customers:
            lines.append(f"| {m.label} | | | {m.wall_s:.1f} | {m.cpu_s:.1f} | | | {m.peak_mb:,.0f} |")
            continue
        figures = f"{m.events:,} | {m.wall_s:.1f} | {m.cpu_s:.1f} | {m.events_per_s:,.0f}"
        lines.append(
            f"| {m.label} | {m.customers:,} | {figures} | {m.us_per_customer:.2f} | {m.peak_mb:,.0f} |"
        )
    return lines


def targets_table(runs: dict[str, Measure], imported: dict[str, float]) -> list[str]:
    rows: list[tuple[str, str, str]] = []
    if "w1" in runs and "bare" in runs:
        w1, b = runs["w1"], runs["bare"]
        ratio = b.wall_s / w1.wall_s
        rows.append(
            (
                f"{w1.customers:,} customers, one worker, >= {TARGET_VS_BARE:.0f}x the bare SimPy loop",
                f"{ratio:.2f}x ({w1.wall_s:.1f} s against {b.wall_s:.1f} s; "
                f"by CPU {b.cpu_s / w1.cpu_s:.2f}x)",
                verdict(ratio >= TARGET_VS_BARE),
            )
        )
        rows.append(
            (
                f"peak RSS <= {TARGET_PEAK_MB:,} MB, one worker",
                f"{w1.peak_mb:,.0f} MB",
                verdict(w1.peak_mb <= TARGET_PEAK_MB),
            )
        )
    if "w1" in runs and "w2" in runs:
        w1, w2 = runs["w1"], runs["w2"]
        speedup = w1.wall_s / w2.wall_s
        # One worker already keeps more than one core busy (its writer threads encode while the day
        # runs): on the machine's cores, two processes can at best spread its CPU seconds evenly.
        cores = os.cpu_count() or 1
        busy = w1.cpu_s / w1.wall_s
        bound = w1.wall_s / max(w1.cpu_s / cores, w2.cpu_s / cores)
        rows.append(
            (
                f"--workers 2 >= {TARGET_SPEEDUP}x one worker",
                f"{speedup:.2f}x (one worker keeps {busy:.2f} cores busy; with {w2.cpu_s:.1f} CPU s "
                f"spread evenly over {cores} cores, two could reach at most {bound:.2f}x)",
                verdict(speedup >= TARGET_SPEEDUP),
            )
        )
    if "file" in runs:
        f = runs["file"]
        if "w2" in runs:
            per = f.us_per_customer / runs["w2"].us_per_customer
            per_cpu = (f.cpu_s / f.customers) / (runs["w2"].cpu_s / runs["w2"].customers)
            rows.append(
                (
                    f"{f.customers:,} customers: per-customer cost within {TARGET_PER_CUSTOMER}x of "
                    f"{runs['w2'].customers:,} (both --workers 2)",
                    f"{per:.2f}x by wall, {per_cpu:.2f}x by CPU",
                    verdict(per <= TARGET_PER_CUSTOMER),
                )
            )
        if "file_bare" in runs:
            fb = runs["file_bare"]
            rows.append(
                (
                    f"(for the record) {f.customers:,} customers, --workers 2, against the bare SimPy loop",
                    f"{fb.wall_s / f.wall_s:.2f}x by wall ({f.wall_s:.1f} s against {fb.wall_s:.1f} s), "
                    f"{fb.cpu_s / f.cpu_s:.2f}x by CPU",
                    "",
                )
            )
        rows.append(
            (
                f"{f.customers:,} customers: wall < {TARGET_FILE_WALL_S:.0f} s",
                f"{f.wall_s:.1f} s",
                verdict(f.wall_s < TARGET_FILE_WALL_S),
            )
        )
        rows.append(
            (
                f"{f.customers:,} customers: peak RSS < {TARGET_FILE_PEAK_MB:,} MB (all processes)",
                f"{f.peak_mb:,.0f} MB",
                verdict(f.peak_mb < TARGET_FILE_PEAK_MB),
            )
        )
    if "month" in runs:
        m = runs["month"]
        rows.append(
            (
                f"28 days of {m.customers:,} customers, --workers 2, < {TARGET_MONTH_S:.0f} s",
                f"{m.wall_s:.1f} s",
                verdict(m.wall_s < TARGET_MONTH_S),
            )
        )
    for key in ("explain", "explain_cached"):
        if key in runs:
            e = runs[key]
            rows.append(
                (
                    f"{e.label} < {TARGET_EXPLAIN_S:.0f} s",
                    f"{e.wall_s:.1f} s",
                    verdict(e.wall_s < TARGET_EXPLAIN_S),
                )
            )
    for what, seconds in imported.items():
        rows.append(
            (
                f"imports of `{what}` < {TARGET_IMPORT_S} s",
                f"{seconds:.3f} s",
                verdict(seconds < TARGET_IMPORT_S),
            )
        )
    if "naive" in runs and "w1" in runs:
        per_event = runs["w1"].events_per_s / runs["naive"].events_per_s
        rows.append(("(for the record) against the naive SimPy model, per event", f"{per_event:.1f}x", ""))
    return ["| target | measured | verdict |", "|---|---|---|", *(f"| {t} | {m} | {v} |" for t, m, v in rows)]


def report(runs: dict[str, Measure], imported: dict[str, float], load: str) -> str:
    command = " ".join(sys.argv[1:])
    order = ("w1", "w2", "bare", "naive", "file", "file_bare", "month", "explain", "explain_cached")
    return "\n".join(
        [
            f"Machine: {machine()}.",
            f"Load average (1 min) before / after: {load} (a shared machine: every ratio is within one run).",
            "",
            f"Command: `python benchmarks/bench_simulate.py {command}`",
            "",
            *runs_table([runs[k] for k in order if k in runs]),
            "",
            *targets_table(runs, imported),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--naive-customers", type=int, default=0, help="also the naive model at this size")
    parser.add_argument("--profile-customers", type=int, default=0, help="also profile a run of this size")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--scenario", default="omnichannel")
    parser.add_argument(
        "--file", type=int, default=0, help="also one day of this many customers, --workers 2"
    )
    parser.add_argument("--file-only", action="store_true", help="with --file: skip the 1M runs")
    parser.add_argument(
        "--no-file-bare", action="store_true", help="with --file: skip the bare loop at that size (minutes)"
    )
    parser.add_argument("--month", action="store_true", help="also 28 days of --customers, --workers 2")
    parser.add_argument("--explain", action="store_true", help="also explain multichannel omnichannel")
    parser.add_argument("--no-imports", action="store_true", help="skip the import-time figures")
    parser.add_argument("--work", type=Path, default=Path("/tmp/parcours-bench"))
    args = parser.parse_args()
    if Path(args.scenario).is_file():  # the children run in --work
        args.scenario = str(Path(args.scenario).resolve())
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = f"{os.getloadavg()[0]:.2f}"
    n, seed, sc, work = args.customers, args.seed, args.scenario, args.work
    steps = {
        "w1": lambda: parcours(n, 1, work, seed, sc),
        "bare": lambda: bare(n, work, seed),
        "w2": lambda: parcours(n, 2, work, seed, sc),
        "naive": lambda: naive(args.naive_customers, work, seed, sc),
        "file": lambda: parcours(args.file, 2, work, seed, sc),
        "file_bare": lambda: bare(args.file, work, seed),
        "month": lambda: parcours(n, 2, work, seed, sc, ("--days", "28")),
        "explain": lambda: explain(work, cached=False),
        "explain_cached": lambda: explain(work, cached=True),
    }
    wanted = {k for k in ("file", "month", "explain") if getattr(args, k)}
    if args.explain:
        wanted.add("explain_cached")
    if args.file and not args.no_file_bare:
        wanted.add("file_bare")
    if not (args.file_only and args.file):
        wanted |= {"w1", "bare", "w2"}
    if args.naive_customers:
        wanted.add("naive")
    runs: dict[str, Measure] = {}
    for key, step in steps.items():
        if key not in wanted:
            continue
        runs[key] = m = step()
        print(
            f"{m.label:>40}: {m.customers:>11,} customers {m.events:>11,} events {m.wall_s:7.1f} s "
            f"CPU {m.cpu_s:7.1f} s  peak {m.peak_mb:7,.0f} MB",
            flush=True,
        )
    imported = {} if args.no_imports else imports(work)
    print()
    print(report(runs, imported, f"{load_before} / {os.getloadavg()[0]:.2f}"))
    if args.profile_customers:
        print()
        print(profile(args.profile_customers, work, seed, sc))


if __name__ == "__main__":
    main()
