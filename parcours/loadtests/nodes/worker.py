"""A Locust worker's side of a replay, and the messages master and workers exchange.

A worker says it is attached (its handlers in place) until the master's start comes; the start holds
the plan, the worker's share and one start time for all; the worker replays its share, publishes its
live counts, and sends what it measured once, when its share is done or when it is stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import WorkerRunner

from parcours.loadtests import live
from parcours.loadtests import mapping as mappings
from parcours.loadtests.driver import ShareReplay
from parcours.loadtests.feed import Share
from parcours.loadtests.schedule import Schedule
from parcours.loadtests.sender import LocustSender

log = logging.getLogger("parcours.replay")

START, RESULT, STOP, METRICS = "parcours_start", "parcours_result", "parcours_stop", "parcours_metrics"
#: A worker's "my handlers are in place": Locust counts a worker ready when it connects, before its
#: ``init`` listeners run, and drops a message that comes before them. The worker says it every
#: ATTACH_EVERY_S until its start arrives; the master sends the start once every worker has said it,
#: or after ATTACH_WAIT_S (and says which did not).
ATTACHED = "parcours_attached"
ATTACH_EVERY_S = 0.5
ATTACH_WAIT_S = 30.0
#: On an early stop: how long requests in flight may finish.
STOP_GRACE_S = 2.0


class Worker:
    """A worker's side: replay the share the master assigned, report what was measured, once."""

    def __init__(self, environment: Environment, report: Any, publish: Any) -> None:
        self.environment = environment
        self.report = report
        self.publish = publish  # gets the live metrics' snapshot every live.PUBLISH_S
        self.replay: ShareReplay | None = None
        self.reported = False
        self.index = 0

    def announce(self, say_attached: Callable[[], None]) -> None:
        """Tell the master this worker can take its start, until the start comes."""
        while self.replay is None:
            say_attached()
            gevent.sleep(ATTACH_EVERY_S)

    def start(self, order: dict[str, Any]) -> None:
        options = self.environment.parsed_options
        run_dir = Path(getattr(options, "run_dir", "") or order["run_dir"])
        mapping = mappings.from_dict(order["mapping"], order["mapping_source"])
        sender = LocustSender(self.environment, order["host"], order["connections"], order["timeout_s"])
        self.reported = False
        self.replay = ShareReplay(
            run_dir,
            Schedule.from_dict(order["plan"]),
            mapping,
            Share(order["workers"], order["index"]),
            sender,
            t0_wall=order["t0_wall"],
            connections=order["connections"],
            check=order.get("check", False),
            out=Path(order["out"]) if order.get("out") else None,
        )
        self.replay.start()
        self.index = order["index"]
        log.info("parcours: worker %d of %d replaying from %s", order["index"], order["workers"], run_dir)
        gevent.spawn(self._finish)
        gevent.spawn(self._publish)

    def _publish(self) -> None:
        while self.replay is not None and not self.reported:
            gevent.sleep(live.PUBLISH_S)
            if not self.reported:
                self.publish({"index": self.index, "live": self.replay.snapshot(fold=True)})

    def _finish(self) -> None:
        assert self.replay is not None
        self.replay.wait()
        self._report()

    def halt(self) -> None:
        """Stop early (if still running) and report what was measured."""
        if self.replay is not None and not self.reported:
            self.replay.stop(STOP_GRACE_S)
            self._report()

    def _report(self) -> None:
        if self.replay is not None and not self.reported:
            self.reported = True
            runner = self.environment.runner
            if isinstance(runner, WorkerRunner):
                # Locust's own statistics reach the master every 3 s; send the last ones now, before
                # the master writes its CSV and HTML report.
                runner._send_stats()
            self.report(self.replay.result())
