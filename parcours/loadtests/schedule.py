"""When each event is due: the replay clock, the window, idle stretches compressed, the dry-run figures.

Every event is due at ``t0 + offset(ts) / speed`` where ``offset`` is simulated time since the first
replayed event minus the stretches taken out: the hours outside ``--window`` (on every day of the run)
and, with ``--max-gap``, whatever part of an idle stretch exceeds the gap. The map is computed once from
all the events of the run and handed to every worker, so they all keep the same clock.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.errors import ParcoursError
from parcours.loadtests.mapping import Mapping
from parcours.output.reader import Run

#: Requests per second one worker process sends with its schedule lag p99 well under 10 ms: about
#: half of what one process sustained against a fast local server in benchmarks/bench_replay.py
#: (see BENCHMARKS.md), rounded down for slower machines.
WORKER_RPS = 4_000

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$")
_UNIT_S = {None: 1.0, "s": 1.0, "ms": 1e-3, "m": 60.0, "min": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Window:
    """A stretch of each day, in seconds since local midnight: ``12:00-14:00``."""

    start_s: int
    end_s: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start_s)}-{_hhmm(self.end_s)}"


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _clock_s(text: str, whole: str) -> int:
    m = _CLOCK.match(text.strip())
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2]) > 0):
        raise ParcoursError(f"--window: {text.strip()!r} is not a time of day HH:MM (in {whole!r})")
    return int(m[1]) * 3600 + int(m[2]) * 60


def parse_window(text: str) -> Window:
    start, sep, end = text.partition("-")
    if not sep:
        raise ParcoursError(f"--window: expected HH:MM-HH:MM, got {text!r}")
    window = Window(_clock_s(start, text), _clock_s(end, text))
    if window.end_s <= window.start_s:
        raise ParcoursError(f"--window: {text!r} ends before it starts")
    return window


def parse_duration_s(text: str, option: str) -> float:
    """``300``, ``300s``, ``5m``, ``1h``, ``250ms`` in seconds; a bad value names the option."""
    m = _DURATION.match(text.strip())
    if not m or float(m[1]) <= 0:
        raise ParcoursError(f"{option}: expected a positive duration such as 300s, 5m or 1h, got {text!r}")
    return float(m[1]) * _UNIT_S[m[2]]


@dataclass(frozen=True)
class TimeMap:
    """Simulated milliseconds -> milliseconds of replay clock (before dividing by the speed)."""

    first_ms: int
    cut_at_ms: tuple[int, ...] = ()
    removed_ms: tuple[int, ...] = ()
    windows_ms: tuple[tuple[int, int], ...] = ()

    def in_window(self, ts_ms: np.ndarray) -> np.ndarray:
        if not self.windows_ms:
            return np.ones(len(ts_ms), bool)
        bounds = np.asarray(self.windows_ms, np.int64).ravel()
        # inside [start, end) of some window <=> odd number of bounds at or before ts
        inside: np.ndarray = np.searchsorted(bounds, ts_ms, side="right") % 2 == 1
        return inside

    def offset_ms(self, ts_ms: np.ndarray) -> np.ndarray:
        offset = ts_ms.astype(np.int64) - self.first_ms
        if self.cut_at_ms:
            i = np.searchsorted(np.asarray(self.cut_at_ms, np.int64), ts_ms, side="right")
            removed = np.concatenate([[0], np.asarray(self.removed_ms, np.int64)])
            offset -= removed[i]
        return offset

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_ms": self.first_ms,
            "cut_at_ms": list(self.cut_at_ms),
            "removed_ms": list(self.removed_ms),
            "windows_ms": [list(w) for w in self.windows_ms],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimeMap:
        return cls(
            int(d["first_ms"]),
            tuple(int(x) for x in d["cut_at_ms"]),
            tuple(int(x) for x in d["removed_ms"]),
            tuple((int(a), int(b)) for a, b in d["windows_ms"]),
        )


def day_windows(window: Window, first_ms: int, last_ms: int, zone: ZoneInfo) -> list[tuple[int, int]]:
    """The window on every local day from the first to the last event, as UTC millisecond bounds."""
    day = dt.datetime.fromtimestamp(first_ms / 1000, zone).date()
    last_day = dt.datetime.fromtimestamp(last_ms / 1000, zone).date()
    spans = []
    while day <= last_day:
        midnight = dt.datetime.combine(day, dt.time(), zone)
        start = midnight + dt.timedelta(seconds=window.start_s)
        end = midnight + dt.timedelta(seconds=window.end_s)
        spans.append((int(start.timestamp() * 1000), int(end.timestamp() * 1000)))
        day += dt.timedelta(days=1)
    return spans


def build_time_map(ts_ms: np.ndarray, windows_ms: list[tuple[int, int]], max_gap_ms: int | None) -> TimeMap:
    """The map for the (sorted, unique) timestamps of the events to replay."""
    cuts: list[tuple[int, int]] = []
    for (_, end), (start, _) in zip(windows_ms, windows_ms[1:], strict=False):
        cuts.append((start, start - end))  # the night between two windows goes
    if max_gap_ms is not None and len(ts_ms) > 1:
        gaps = np.diff(ts_ms)
        long = np.flatnonzero(gaps > max_gap_ms)
        cuts += [(int(ts_ms[i + 1]), int(gaps[i] - max_gap_ms)) for i in long]
    merged: dict[int, int] = {}
    for at, removed in cuts:  # a window start may also close a long gap: remove only once
        merged[at] = max(merged.get(at, 0), removed)
    at_sorted = sorted(merged)
    removed = np.cumsum([merged[a] for a in at_sorted]).tolist() if at_sorted else []
    first = int(ts_ms[0]) if len(ts_ms) else 0
    return TimeMap(first, tuple(at_sorted), tuple(int(r) for r in removed), tuple(windows_ms))


@dataclass(frozen=True)
class Schedule:
    """What a replay will send and when, computed from every event of the run."""

    time_map: TimeMap
    speed: float
    events_in_file: int
    events_in_window: int
    requests: int
    unmapped: dict[str, int]
    duration_s: float
    peak_rps: float
    peak_at_s: float
    seconds: int = 1  # whole seconds the replay spans (the peak is the busiest of them)
    batch_max_events: int = 1

    @property
    def mean_rps(self) -> float:
        return self.requests / self.seconds

    @property
    def workers_needed(self) -> int:
        return max(1, math.ceil(self.peak_rps / WORKER_RPS))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "time_map"}
        return {**d, "time_map": self.time_map.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schedule:
        return cls(**{**d, "time_map": TimeMap.from_dict(d["time_map"])})


def run_zone(run: Run) -> ZoneInfo:
    """The run's time zone (the scenario calendar's), in which --window reads."""
    name = run.manifest.scenario.calendar.timezone
    return ZoneInfo(name)


def _scan(run: Run, mapping: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Every event's timestamp, whether the mapping sends it, and its type (codes into a name list)."""
    ts, sent, codes, names = [], [], [], list[str]()
    for batch in run.iter_event_batches(columns=["ts", "event_type"]):
        types = batch.column(1)
        if not isinstance(types, pa.DictionaryArray):
            types = pc.dictionary_encode(types)
        local = types.dictionary.to_pylist()
        names += [n for n in local if n not in names]
        remap = np.array([names.index(n) for n in local] + [-1], np.int32)
        code = remap[types.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
        ts.append(batch.column(0).cast(pa.int64()).to_numpy())
        codes.append(code)
        handled = np.array([mapping.handles(n) for n in names] + [False])
        sent.append(handled[code])
    if not ts:
        return np.empty(0, np.int64), np.empty(0, bool), np.empty(0, np.int32), names
    return np.concatenate(ts), np.concatenate(sent), np.concatenate(codes), names


def make_schedule(
    run: Run, mapping: Mapping, *, speed: float, window: Window | None = None, max_gap_s: float | None = None
) -> Schedule:
    """Read every event's time and type once and work out the schedule and its figures."""
    if not (math.isfinite(speed) and speed > 0):
        raise ParcoursError(f"--speed: must be a finite number above 0, got {speed!r}")
    ts, sent, codes, names = _scan(run, mapping)
    if not sent.any():
        raise ParcoursError(f"{run.path}: no event of a type mapping {mapping.spec.name!r} sends")
    windows = day_windows(window, int(ts.min()), int(ts.max()), run_zone(run)) if window else []
    inside = TimeMap(0, windows_ms=tuple(windows)).in_window(ts)
    if not (inside & sent).any():
        raise ParcoursError(f"--window: no event of {run.path} that the mapping sends falls within {window}")
    unmapped = Counter(names[c] for c in codes[inside & ~sent].tolist())
    due = np.sort(ts[inside & sent])
    time_map = build_time_map(np.unique(due), windows, None if max_gap_s is None else round(max_gap_s * 1000))
    seconds = time_map.offset_ms(due) / 1000 / speed
    per_second = np.bincount(seconds.astype(np.int64))
    return Schedule(
        time_map=time_map,
        speed=speed,
        events_in_file=len(ts),
        events_in_window=int(inside.sum()),
        requests=len(due),
        unmapped=dict(unmapped.most_common()),
        duration_s=float(seconds[-1]),
        peak_rps=float(per_second.max()),
        peak_at_s=float(per_second.argmax()),
        seconds=len(per_second),
        batch_max_events=mapping.batch_max_events,
    )


def describe(plan: Schedule, run: Run, mapping: Mapping, window: Window | None) -> str:
    """The dry run: what would be sent, for how long, how hard, and how many workers that needs."""
    skipped = ", ".join(f"{k} {v:,}" for k, v in list(plan.unmapped.items())[:6]) or "none"
    where = f" within {window} ({run_zone(run).key}) each day" if window else ""
    batch = f" in batches of up to {plan.batch_max_events}" if plan.batch_max_events > 1 else ""
    rate = "events/s" if batch else "requests/s"
    return "\n".join(
        [
            f"{run.path}: {plan.events_in_file:,} events; {plan.requests:,} to send{where}{batch}",
            f"mapping {mapping.spec.name}: unmapped event types are skipped: {skipped}",
            f"at --speed {plan.speed:g}: {_clock(plan.duration_s)} of replay",
            f"{rate}: peak {plan.peak_rps:,.0f} (at {_clock(plan.peak_at_s)}), mean {plan.mean_rps:,.1f}",
            f"workers: {plan.workers_needed} for the peak (a worker keeps its lag low up to about "
            f"{WORKER_RPS:,} requests/s, and at most --connections / the backend's response time)",
        ]
    )


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
