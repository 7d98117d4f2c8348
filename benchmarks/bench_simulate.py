"""Benchmark ``parcours simulate`` against the naive SimPy baseline, in one run on one machine.

Each figure comes from a child process (``python -m parcours.cli.main simulate ... --no-progress``,
or ``benchmarks/naive_simpy.py``) timed by wall clock from start to exit, with the peak of the summed
resident memory of the child and all its descendants, sampled every 20 ms. Ratios compare runs made in
this same invocation, so the machine's state is shared by both sides of every ratio.

    python benchmarks/bench_simulate.py                      # 1,000,000 customers (a few minutes)
    python benchmarks/bench_simulate.py --customers 100000   # while developing

A national retailer's file: one day of 30,000,000 customers with ``--workers 2`` (default shards), and
the naive baseline on the same scenario in the same invocation (``--file-only`` skips the 1M runs):

    python benchmarks/bench_simulate.py --file 30000000 --file-only
"""

from __future__ import annotations

import argparse
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
TARGET_EVENTS_PER_S = 700_000
TARGET_VS_NAIVE = 10.0
TARGET_PEAK_MB = 2048
TARGET_SPEEDUP = 1.7
TARGET_FILE_WALL_S = 90.0
TARGET_FILE_PEAK_MB = 3 * 1024
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


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak tree RSS in MB and stdout of a child process; fails loudly if it fails.

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
        time.sleep(0.02)
    wall = time.perf_counter() - began
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_S = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"benchmark step failed ({' '.join(cmd)}):\n{err}")
    return wall, peak / 2**20, out


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


def parcours(customers: int, workers: int, work: Path, seed: int, scenario: str) -> Measure:
    out = work / f"parcours-{customers}-w{workers}"
    cmd = [sys.executable, "-m", "parcours", "simulate", "--customers", str(customers)]
    cmd += ["--scenario", scenario, "--seed", str(seed), "--workers", str(workers)]
    wall, peak, _ = run_measured([*cmd, "--out", str(out), "--overwrite", "--no-progress"], work)
    manifest = json.loads((out / "run.json").read_text())
    shutil.rmtree(out)
    label = f"parcours --workers {workers}"
    if manifest["shards"] != workers:
        label += f" ({manifest['shards']} shards)"
    return Measure(label, customers, manifest["counts"]["events"], wall, peak, LAST_CPU_S)


def naive(customers: int, work: Path, seed: int, scenario: str) -> Measure:
    out = work / f"naive-{customers}.parquet"
    cmd = [sys.executable, str(HERE / "naive_simpy.py"), "--customers", str(customers)]
    cmd += ["--scenario", scenario]
    wall, peak, stdout = run_measured([*cmd, "--seed", str(seed), "--out", str(out)], work)
    out.unlink()
    return Measure("naive SimPy", customers, json.loads(stdout)["events"], wall, peak, LAST_CPU_S)


def file_targets(run: Measure, nv: Measure) -> list[str]:
    """The national-file figure: wall and peak memory of the whole process tree, and the naive ratio."""
    ratio = run.events_per_s / nv.events_per_s
    rows = [
        (
            f"wall < {TARGET_FILE_WALL_S:.0f} s",
            f"{run.wall_s:.1f} s",
            verdict(run.wall_s < TARGET_FILE_WALL_S),
        ),
        (
            f"peak RSS < {TARGET_FILE_PEAK_MB:,} MB (all processes)",
            f"{run.peak_mb:,.0f} MB",
            verdict(run.peak_mb < TARGET_FILE_PEAK_MB),
        ),
        (
            f">= {TARGET_VS_NAIVE:.0f}x the naive SimPy model",
            f"{ratio:.1f}x (naive at {nv.customers:,} customers, per event)",
            verdict(ratio >= TARGET_VS_NAIVE),
        ),
    ]
    return ["| target | measured | verdict |", "|---|---|---|", *(f"| {t} | {m} | {v} |" for t, m, v in rows)]


def profile(customers: int, work: Path, seed: int, scenario: str, top: int = 18) -> str:
    """cProfile of one in-process shard (workers 1): where the time goes, by own time and cumulative."""
    prof, out = work / "simulate.prof", work / "profiled-run"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "parcours", "simulate"]
    run_measured(
        [*cmd, "-n", str(customers), "-s", scenario, "--seed", str(seed), "-o", str(out), "--overwrite"]
        + ["--no-progress"],
        work,
    )
    shutil.rmtree(out)
    stats = pstats.Stats(str(prof))
    total = stats.total_tt
    lines = [f"cProfile, {customers:,} customers, workers 1: {total:.1f} s under the profiler", ""]
    lines += ["own time (tottime), top entries:"]
    lines += _top(stats, "tottime", top, total)
    lines += ["", "cumulative time, parcours functions:"]
    lines += _top(stats, "cumulative", top, total, only="parcours/")
    return "\n".join(lines)


def _top(stats: pstats.Stats, key: str, n: int, total: float, only: str = "") -> list[str]:
    rows = []
    for (path, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():
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


def per_workers(ok1: bool, ok2: bool, applies: bool = True) -> str:
    """A target's verdict for each configuration: the plain command runs one worker."""
    if not applies:
        return verdict(False, applies)
    return f"workers 1: {verdict(ok1)}; workers 2: {verdict(ok2)}"


def verdict(ok: bool, applies: bool = True) -> str:
    if not applies:
        return "n/a below 1M customers"
    return "met" if ok else "**missed**"


def runs_table(measures: list[Measure]) -> list[str]:
    lines = [
        "| run | customers | events | wall s | CPU s | events/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        figures = f"{m.events:,} | {m.wall_s:.1f} | {m.cpu_s:.1f} | {m.events_per_s:,.0f} | {m.peak_mb:,.0f}"
        lines.append(f"| {m.label} | {m.customers:,} | {figures} |")
    return lines


def targets_table(runs: dict[str, Measure], memory: list[Measure]) -> list[str]:
    w1, w2, nv = runs["w1"], runs["w2"], runs["naive"]
    full = w1.customers >= 1_000_000
    vs1, vs2 = w1.events_per_s / nv.events_per_s, w2.events_per_s / nv.events_per_s
    per_event = "" if nv.customers == w1.customers else f"; naive at {nv.customers:,} customers, per event"
    speedup = w1.wall_s / w2.wall_s
    marginal = _marginal_bytes(memory)
    linear = len(marginal) < 2 or marginal[-1] <= 1.25 * marginal[0]
    peak = max(w1.peak_mb, w2.peak_mb)
    rows = [
        (
            f">= {TARGET_EVENTS_PER_S:,} events/s end to end",
            f"{w1.events_per_s:,.0f} (workers 1), {w2.events_per_s:,.0f} (workers 2)",
            per_workers(w1.events_per_s >= TARGET_EVENTS_PER_S, w2.events_per_s >= TARGET_EVENTS_PER_S, full),
        ),
        (
            f">= {TARGET_VS_NAIVE:.0f}x the naive SimPy model",
            f"{vs1:.1f}x (workers 1), {vs2:.1f}x (workers 2){per_event}",
            per_workers(vs1 >= TARGET_VS_NAIVE, vs2 >= TARGET_VS_NAIVE),
        ),
        (
            f"peak RSS <= {TARGET_PEAK_MB:,} MB",
            f"{w1.peak_mb:,.0f} MB (workers 1), {w2.peak_mb:,.0f} MB (workers 2, all processes)",
            verdict(peak <= TARGET_PEAK_MB, full),
        ),
        ("memory linear in customers", _memory_line(memory, marginal), verdict(linear)),
        (
            f"--workers 2 >= {TARGET_SPEEDUP}x --workers 1",
            f"{speedup:.2f}x",
            verdict(speedup >= TARGET_SPEEDUP),
        ),
    ]
    return ["| target | measured | verdict |", "|---|---|---|", *(f"| {t} | {m} | {v} |" for t, m, v in rows)]


def report(args: argparse.Namespace, runs: dict[str, Measure], memory: list[Measure], load: str) -> str:
    command = " ".join(sys.argv[1:])
    lines = [
        "## Simulate",
        "",
        f"Machine: {machine()}.",
        f"Load average (1 min) before / after: {load} (a shared machine: every ratio is within one run).",
        "",
        f"Command: `python benchmarks/bench_simulate.py {command}`",
        "",
        *runs_table([runs[k] for k in ("w1", "w2", "file", "naive") if k in runs] + memory[:-1]),
    ]
    if "w1" in runs:
        lines += ["", *targets_table(runs, memory)]
    if "file" in runs:
        lines += ["", f"One day of {args.file:,} customers, --workers 2:", ""]
        lines += file_targets(runs["file"], runs["naive"])
    return "\n".join(lines)


def _marginal_bytes(memory: list[Measure]) -> list[float]:
    """Peak RSS added per extra customer between successive sizes: flat when memory is linear."""
    pairs = zip(memory, memory[1:], strict=False)
    return [(b.peak_mb - a.peak_mb) * 2**20 / (b.customers - a.customers) for a, b in pairs]


def _memory_line(memory: list[Measure], marginal: list[float]) -> str:
    peaks = ", ".join(f"{m.peak_mb:,.0f} MB at {m.customers:,}" for m in memory)
    steps = ", ".join(f"{b:,.0f}" for b in marginal)
    return f"peak {peaks}; bytes per added customer {steps}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--naive-customers", type=int, default=100_000, help="naive baseline size [100,000]")
    parser.add_argument(
        "--memory-points", default="0.25,0.5", help="fractions of --customers for the memory check"
    )
    parser.add_argument("--profile-customers", type=int, default=0, help="also profile a run of this size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenario", default="omnichannel", help="for parcours and the naive model alike")
    parser.add_argument(
        "--file", type=int, default=0, help="also one day of this many customers, --workers 2"
    )
    parser.add_argument("--file-only", action="store_true", help="with --file: skip the --customers runs")
    parser.add_argument("--work", type=Path, default=Path("/tmp/parcours-bench"))
    args = parser.parse_args()
    args.naive_customers = min(args.naive_customers, args.customers)
    if Path(args.scenario).is_file():  # the children run in --work
        args.scenario = str(Path(args.scenario).resolve())
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = f"{os.getloadavg()[0]:.2f}"
    runs: dict[str, Measure] = {}
    steps = [
        ("w1", lambda: parcours(args.customers, 1, args.work, args.seed, args.scenario)),
        ("w2", lambda: parcours(args.customers, 2, args.work, args.seed, args.scenario)),
        ("file", lambda: parcours(args.file, 2, args.work, args.seed, args.scenario)),
        ("naive", lambda: naive(args.naive_customers, args.work, args.seed, args.scenario)),
    ]
    only = {"file", "naive"} if args.file_only else {"w1", "w2", "naive"} | ({"file"} if args.file else set())
    for key, step in steps:
        if key not in only:
            continue
        runs[key] = step()
        m = runs[key]
        print(
            f"{m.label:>22}: {m.customers:>9,} customers {m.events:>11,} events {m.wall_s:7.1f} s "
            f"{m.events_per_s:>10,.0f} events/s  peak {m.peak_mb:7,.0f} MB  CPU {m.cpu_s:7.1f} s",
            flush=True,
        )
    memory = []
    for fraction in (float(f) for f in args.memory_points.split(",") if f and "w1" in runs):
        m = parcours(int(args.customers * fraction), 1, args.work, args.seed, args.scenario)
        memory.append(m)
        print(f"{'memory check':>22}: {m.customers:>9,} customers peak {m.peak_mb:7,.0f} MB", flush=True)
    if "w1" in runs:
        memory.append(runs["w1"])
    print()
    print(report(args, runs, memory, f"{load_before} / {os.getloadavg()[0]:.2f}"))
    if args.profile_customers:
        print()
        print(profile(args.profile_customers, args.work, args.seed, args.scenario))


if __name__ == "__main__":
    main()
