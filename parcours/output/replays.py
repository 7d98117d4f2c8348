"""A replay's results, written by ``loadtests/`` and read by ``report/``: the one place that says how.

    RUN/replays/ID/                  ID: when the replay started, UTC (so folders sort by time)
        summary.json                 what the whole replay measured (``ReplaySummary``)
        requests/part-NNNNN.parquet  one row per event sent (``REQUEST_SCHEMA``), one part per worker
        backend.sqlite3, backend.log the reference backend's state and log, with ``--target builtin``

``--out`` may put the results folder anywhere else; its inside is the same.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, TypedDict

import pyarrow as pa

from parcours.errors import RunDirError
from parcours.output.paths import REPLAYS_DIR as REPLAYS_DIR  # a run's own entry, listed in paths
from parcours.output.paths import check_results_out

SUMMARY = "summary.json"
REQUESTS_DIR = "requests"
BACKEND_DB = "backend.sqlite3"
BACKEND_LOG = "backend.log"
#: A replay folder's name: its start, UTC, to the microsecond.
REPLAY_ID_FORMAT = "%Y%m%d-%H%M%S-%f"

TIME = pa.timestamp("us", tz="UTC")
DICT = pa.dictionary(pa.int32(), pa.string())
REQUESTS_VERSION = b"1"
#: The request log: one row per event sent, times wall-clock UTC to the microsecond.
REQUEST_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.int64(), nullable=False),
        pa.field("customer_id", pa.int64(), nullable=False),
        pa.field("persona", DICT, nullable=False),
        pa.field("channel", DICT, nullable=False),
        pa.field("event_type", DICT, nullable=False),
        pa.field("request", pa.string(), nullable=False),  # the name in Locust's statistics
        pa.field("worker", pa.int32(), nullable=False),
        pa.field("due", TIME, nullable=False),
        pa.field("sent", TIME, nullable=False),
        pa.field("done", TIME, nullable=False),  # unanswered: when the replay gave up on it, at its stop
        pa.field("status", pa.int32()),  # null when no answer came
        pa.field("error", pa.string()),  # null when ok; else status, refused, timeout, closed, other or
        # unanswered (still out when the replay stopped: sent, the target may have it, no answer)
        pa.field("check", pa.string()),  # null when not checked; "ok"; or the kind of the violation
    ],
    metadata={b"parcours.requests_version": REQUESTS_VERSION},
)


def new_replay_dir(run: Path, now: dt.datetime) -> Path:
    """Where a replay of ``run`` started at ``now`` keeps its results, unless ``--out`` says otherwise."""
    return run / REPLAYS_DIR / now.astimezone(dt.UTC).strftime(REPLAY_ID_FORMAT)


def make_results_dir(run: Path, out: Path | None) -> Path:
    """The replay's results folder, made: ``out`` or a new one under ``run``'s replays, checked first."""
    path = out or new_replay_dir(run, dt.datetime.now(dt.UTC))
    check_results_out(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot create the results folder ({exc.strerror})") from None
    return path


def request_part(results: Path, worker: int) -> Path:
    return results / REQUESTS_DIR / f"part-{worker:05d}.parquet"


def has_request_log(results: Path) -> bool:
    return any((results / REQUESTS_DIR).glob("part-*.parquet"))


def latest_replay(run: Path) -> Path | None:
    """The most recent replay of a run that left a request log (replay folders sort by time)."""
    folder = run / REPLAYS_DIR
    if not folder.is_dir():
        return None
    done = [p for p in sorted(folder.iterdir()) if has_request_log(p)]
    return done[-1] if done else None


class ReplaySettings(TypedDict):
    """How the replay was asked for: summary.json's keys after ``parcours_version``."""

    replay_id: str
    started_at: str
    run: str
    target: str | None  # Locust's --host
    mapping: str
    mapping_source: str
    speed: float
    window: str | None
    max_gap: str | None
    connections: int
    request_timeout_s: float
    check: bool
    workers_count: int
    workers_reported: int


class ReplaySummary(ReplaySettings):
    """summary.json, in the order it is written. The nested tables are described in docs/replay.md."""

    parcours_version: str
    interrupted: bool
    stopped_by: str | None  # None, "interrupt" or "time_cap"
    time_cap_s: float | None
    valid: bool
    invalid_reason: str | None
    max_lag_ms: float
    planned_duration_s: float
    elapsed_s: float
    requests_per_s: float | None
    failed_reason: str | None  # why it failed: nothing succeeded, a worker lost, thresholds crossed
    events: dict[str, Any]  # in_file, in_window, to_send, sent, ok, failed, error_rate, unanswered, ...
    errors: dict[str, Any]  # by_kind, by_status, by_event_type, samples
    order_violations: int
    checks: dict[str, Any]  # enabled, checked, violations, by_kind, samples
    latency_ms: dict[str, dict[str, float]]  # metric -> count, mean, p50, ... max
    by: dict[str, dict[str, dict[str, dict[str, float]]]]  # dimension -> key -> metric -> stats
    workers: list[dict[str, Any]]
    fail_on: dict[str, float]  # the --fail-on thresholds, NAME: LIMIT
    fail_on_crossed: list[dict[str, Any]]  # those crossed: name, value, limit


def write_summary(results: Path, summary: ReplaySummary) -> Path:
    path = results / SUMMARY
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def read_summary(results: Path) -> ReplaySummary:
    """A replay's summary.json; OSError or ValueError when there is none, or it is not JSON."""
    summary: ReplaySummary = json.loads((results / SUMMARY).read_text())
    return summary
