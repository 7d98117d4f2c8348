"""Each Locust process's part in a replay: the replay's options on Locust's command line, and, once
Locust has made its runner, a worker's share or the coordinator attached to it."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from parcours.errors import ParcoursError
from parcours.lifeline import follow_parent
from parcours.loadtests import live
from parcours.loadtests.nodes.coordinator import Coordinator
from parcours.loadtests.nodes.worker import ATTACHED, METRICS, RESULT, START, STOP, Worker

log = logging.getLogger("parcours.replay")

SWITCH_INTERVAL_S = 0.001


#: The replay's options as Locust command-line arguments: (flag, type, default, help).
ARGUMENTS: list[tuple[str, type, Any, str]] = [
    ("--run-dir", str, "", "The parcours run directory to replay"),
    ("--mapping", str, "ingest", "Built-in mapping name or mapping .toml file"),
    ("--speed", float, 1.0, "Replay speed: 60 plays an hour in a minute"),
    ("--window", str, "", "Replay only HH:MM-HH:MM of each day (the run's time zone)"),
    ("--max-gap", str, "", "Shorten idle stretches of simulated time to this (300s, 5m)"),
    ("--connections", int, 100, "Requests in flight per process"),
    ("--request-timeout", float, 10.0, "Seconds before a request times out"),
    ("--max-lag-ms", float, 100.0, "Lag gate: schedule lag p99 above this makes the run invalid"),
    ("--fail-on", str, "", "Thresholds such as p99_ms=500,error_rate=0.01"),
    ("--replay-out", str, "", "Results folder [default: RUN/replays/TIMESTAMP]"),
    ("--metrics-port", int, 0, "Serve live Prometheus metrics on 127.0.0.1:PORT/metrics [default: off]"),
    (
        "--metrics-linger",
        float,
        live.LINGER_S,
        "After the end, wait up to this for a scrape of the final values",
    ),
]


def add_arguments(parser: Any) -> None:
    for flag, kind, default, text in ARGUMENTS:
        # read once, when the process starts: the web UI could show them but not change the plan
        parser.add_argument(flag, type=kind, default=default, help=text, include_in_web_ui=False)
    parser.add_argument(
        "--check", action="store_true", default=False, include_in_web_ui=False,
        help="Check the mapping's continuity expectations on every answer",
    )  # fmt: skip


def attach(environment: Environment) -> None:
    """Give this Locust process its part: a worker replays a share; anyone else coordinates."""
    # The reading and folding threads hand the GIL back to the event loop within 1 ms, not the
    # default 5 ms, which would show as schedule lag.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        _attach(environment)
    except ParcoursError as exc:  # one line and exit code 2, as `parcours` itself does
        log.error("parcours: error: %s", exc)
        sys.exit(2)
    # after the handlers are registered: starting a thread yields to gevent, and a message handled
    # then (the master's start) would find none
    follow_parent()  # started by `parcours replay`: gone with it, even after a kill -9


def _attach(environment: Environment) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        share = Worker(
            environment,
            lambda result: runner.send_message(RESULT, result),
            lambda snapshot: runner.send_message(METRICS, snapshot),
        )
        runner.register_message(START, lambda environment, msg, **_: share.start(msg.data), concurrent=True)
        runner.register_message(STOP, lambda environment, msg, **_: share.halt(), concurrent=True)
        listen(environment.events.quitting, lambda **_: share.halt())
        gevent.spawn(share.announce, lambda: runner.send_message(ATTACHED))
        return
    coordinator = Coordinator(environment)
    gevent.signal_handler(signal.SIGTERM, lambda: setattr(coordinator, "terminated", True))
    listen(environment.events.test_start, coordinator.on_test_start)
    listen(environment.events.test_stop, coordinator.on_stop)
    listen(environment.events.quitting, coordinator.on_stop)
    if isinstance(runner, MasterRunner):
        runner.register_message(RESULT, coordinator.on_result, concurrent=True)
        runner.register_message(METRICS, coordinator.on_metrics, concurrent=True)
        runner.register_message(ATTACHED, coordinator.on_attached, concurrent=True)


def listen(event: Any, listener: Callable[..., None]) -> None:
    event.add_listener(listener)


_hooked = False


def hook_into(events: Any) -> None:
    """Add the replay's options to Locust's parser and attach each process's part, once per process.

    The locustfile calls this; it may be imported twice in one process (by ``parcours locust``, so that
    ``--help`` lists the options, then by Locust under another module name), but must hook in once.
    """
    global _hooked
    if _hooked:
        return
    _hooked = True
    listen(events.init_command_line_parser, lambda parser, **_: add_arguments(parser))
    listen(events.init, lambda environment, **_: attach(environment))
