"""Fault accounting in replay: against a target that refuses, hangs, answers slowly or with 5xx, resets
connections, sends partial bodies or dies and comes back, every event ends counted as ok, failed (with
its kind), sent without an answer at a stop, or not sent (with its reason), and these add up to the
events in the file, with one Locust worker and with two; a hanging target cannot hold the replay past
its time cap (planned length + --timeout + a margin), which has its own exit code.

The target is tests/fault_server.py (raw sockets on 127.0.0.1); the replay is the real one (Locust in
its own processes). Counts and times are bounded: 120 events over about two seconds of replay.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from parcours.loadtests.verdict import EXIT_TIME_CAP
from tests import replay_support
from tests.fault_server import FAULTS, FaultServer
from tests.replay_support import make_run

CUSTOMERS, EVENTS = 12, 10  # 120 events over 60 simulated seconds, replayed at 30x: 2 s
SPEED = "30"
TIMEOUT = "1"  # a hung request fails as a timeout after a second


#: The lag gate is not the subject here.
replay = functools.partial(
    replay_support.replay, defaults=("--speed", SPEED, "--timeout", TIMEOUT, "--max-lag-ms", "100000")
)


def assert_accounted(summary: dict[str, Any], in_file: int) -> None:
    """sent = ok + failed + unanswered; sent + not sent (+ skipped) = the events in the file; each
    failure has a kind."""
    ev, errors = summary["events"], summary["errors"]
    assert ev["in_file"] == in_file
    skipped = sum(ev["unmapped"].values()) + sum(ev["skipped_null_field"].values())
    assert ev["sent"] + ev["not_sent"] + skipped == in_file, ev
    assert ev["sent"] == ev["ok"] + ev["failed"] + ev["unanswered"]
    assert sum(errors["by_kind"].values()) == ev["failed"], errors
    assert ev["not_sent"] == 0 or ev["not_sent_reason"], ev


def every_fault(n: int) -> str:
    """Each fault in turn, between runs of good answers: 1 request in 2 fails one way or another."""
    return FAULTS[(n // 2) % len(FAULTS)] if n % 2 else "ok"


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_fault_is_counted_once(tmp_path: Path, workers: str) -> None:
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    with FaultServer(every_fault, delay_s=0.2) as server:
        code, summary = replay(tmp_path / "run", server.url, "--workers", workers, out=tmp_path / "out")
    ev, kinds = summary["events"], summary["errors"]["by_kind"]
    assert_accounted(summary, CUSTOMERS * EVENTS)
    assert summary["stopped_by"] is None and ev["unanswered"] == 0 and ev["not_sent"] == 0
    # what the server did, seen from the replay: good and slow answers ok, the rest failed by kind
    assert ev["ok"] == server.counts["ok"] + server.counts["delay"]
    assert kinds.get("status") == server.counts["5xx"]
    assert kinds.get("timeout") == server.counts["hang"]
    assert kinds.get("closed", 0) + kinds.get("other", 0) == server.counts["reset"] + server.counts["partial"]
    assert code == 0  # some requests succeeded, no threshold given: the failures are in the summary


@pytest.mark.slow
def test_a_target_that_dies_and_comes_back(tmp_path: Path) -> None:
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=2)
    with FaultServer(lambda n: "ok") as server:
        server.restart_after(requests=40, down_s=0.5)  # a third of the way, for a quarter of the replay
        code, summary = replay(tmp_path / "run", server.url, "--workers", "2", out=tmp_path / "out")
    assert_accounted(summary, CUSTOMERS * EVENTS)
    ev, kinds = summary["events"], summary["errors"]["by_kind"]
    # each request the server read was answered ok, unless it died first: then the replay saw it close
    assert ev["ok"] <= server.counts["ok"] <= ev["ok"] + kinds.get("closed", 0)
    assert ev["ok"] > 0 and kinds.get("refused", 0) + kinds.get("closed", 0) > 0, kinds
    assert code in (0, 1)


@pytest.mark.slow
def test_a_hanging_target_stops_at_the_time_cap(tmp_path: Path) -> None:
    # every request hangs for good; the customers' events queue behind their hung requests
    make_run(tmp_path / "run", customers=CUSTOMERS, events=EVENTS, parts=1)
    with FaultServer(lambda n: "hang") as server:
        code, summary = replay(tmp_path / "run", server.url, "--timeout", "5", out=tmp_path / "out")
    assert code == EXIT_TIME_CAP, summary
    assert summary["stopped_by"] == "time_cap" and not summary["interrupted"]
    assert summary["elapsed_s"] <= summary["time_cap_s"] + 5  # the cap, and at most one --timeout
    assert summary["time_cap_s"] < summary["planned_duration_s"] + 5 + 10
    ev = summary["events"]
    assert_accounted(summary, CUSTOMERS * EVENTS)
    # requests out at the stop reached the server: counted as unanswered, never as "not sent"
    assert ev["unanswered"] > 0 and ev["ok"] == 0
    assert ev["sent"] == server.received
