"""The master's (or a standalone process's) side of a replay: plan, start the workers once they can
take it, stop at the time cap, collect what they measured, write the summary."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any, cast

import gevent
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner

from parcours.errors import ParcoursError
from parcours.loadtests import live
from parcours.loadtests import mapping as mappings
from parcours.loadtests import verdict as verdicts
from parcours.loadtests.nodes.worker import ATTACH_WAIT_S, START, STOP, Worker
from parcours.loadtests.schedule import Schedule, make_schedule, parse_duration_s, parse_window
from parcours.output.reader import Run
from parcours.output.replays import ReplaySettings, new_replay_dir, write_summary

log = logging.getLogger("parcours.replay")

#: Between deciding the start time and the first event: enough to reach the workers and read ahead.
START_LEAD_S = 1.0
#: On an early stop: how long the master waits for the workers' results.
RESULT_WAIT_S = 15.0
#: The time cap: a replay that has not finished by its planned length, plus the request timeout, plus
#: this margin (seconds, and a share of the planned length) stops by itself, with its own exit code.
TIME_CAP_MARGIN_S = 5.0
TIME_CAP_MARGIN_SHARE = 0.1
CSV_SETTLE_S = 1.2


def _plan(options: Any) -> tuple[Run, mappings.Mapping, Schedule]:
    if not options.run_dir:
        raise ParcoursError("--run-dir: the run directory to replay is required")
    run = Run(options.run_dir)
    mapping = mappings.load(options.mapping)
    mapping.check_environment()
    window = parse_window(options.window) if options.window else None
    max_gap = parse_duration_s(options.max_gap, "--max-gap") if options.max_gap else None
    return run, mapping, make_schedule(run, mapping, speed=options.speed, window=window, max_gap_s=max_gap)


class Coordinator:
    """The master's (or a standalone process's) side: plan, start the workers, collect, summarise."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.options = cast(Any, environment.parsed_options)
        self.run, self.mapping, self.plan = _plan(self.options)
        self.thresholds = verdicts.parse_fail_on(self.options.fail_on)
        self.results: dict[int, dict[str, Any]] = {}
        self.expected = 0
        self.finished = True  # until a test starts
        self.out = Path()
        self.local: Worker | None = None
        self.stop_reason: str | None = None
        self.cap: gevent.Greenlet | None = None
        self.starter: gevent.Greenlet | None = None
        self.attached: set[str] = set()  # Locust's ids of the workers whose handlers are in place
        self.quitting = False
        self.snapshots: dict[int, dict[str, Any]] = {}  # the latest live counts of each worker
        self.clients: dict[str, int] = {}  # Locust's id of each worker: its index
        self.lost: set[int] = set()
        self.terminated = False  # a SIGTERM stopped it: exit 143, not 130, as every parcours command
        port = self.options.metrics_port
        self.endpoint = live.Endpoint(port, self.render) if port else None

    def render(self) -> str:
        workers = {"expected": self.expected, "reporting": len(self.snapshots), "lost": len(self.lost)}
        snapshot = live.merge(self.snapshots.values())
        finished = self.endpoint is not None and self.endpoint.finished
        return live.text(snapshot, planned=self.plan.requests, workers=workers, finished=finished)

    def on_attached(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.attached.add(msg.node_id)

    def on_metrics(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.keep_snapshot(msg.data)

    def keep_snapshot(self, data: dict[str, Any]) -> None:
        if int(data["index"]) not in self.results:  # a result holds the final counts: keep those
            self.snapshots[int(data["index"])] = data["live"]

    def watch_workers(self) -> None:
        """A worker gone without a result (killed, crashed) is reported with its last snapshot."""
        runner = cast(MasterRunner, self.environment.runner)
        while not self.finished:
            gevent.sleep(1.0)
            for client_id, index in self.clients.items():
                node = runner.clients.get(client_id)
                gone = node is None or node.state == STATE_MISSING
                if gone and index not in self.results and not self.finished:
                    log.warning("parcours: worker %d is lost; reporting what it had sent", index)
                    self.lost.add(index)
                    self.collect(live.as_result(index, self.snapshots.get(index)))

    def on_test_start(self, **_: Any) -> None:
        self.results, self.finished = {}, False
        self.started_at = dt.datetime.now(dt.UTC)
        self.out = Path(self.options.replay_out or new_replay_dir(self.run.path, self.started_at))
        self.out.mkdir(parents=True, exist_ok=True)
        self.stop_reason = None
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            workers = sorted(
                c.id for c in runner.clients.ready + runner.clients.spawning + runner.clients.running
            )
            self.expected = len(workers)
            self.clients = {client_id: index for index, client_id in enumerate(workers)}
            self.starter = gevent.spawn(self._start_workers, workers)
            gevent.spawn(self.watch_workers)
        else:
            self.expected = 1
            self.local = Worker(self.environment, self.collect, self.keep_snapshot)
            self.local.start({**self._order(time.time() + START_LEAD_S), "index": 0, "workers": 1})
            self._started()

    def _start_workers(self, workers: list[str]) -> None:
        """Once each worker can take it (or after ATTACH_WAIT_S), send each its start and share."""
        deadline = time.monotonic() + ATTACH_WAIT_S
        while not self.attached.issuperset(workers) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        if self.finished:  # stopped meanwhile
            return
        if late := [self.clients[w] for w in workers if w not in self.attached]:
            log.warning(
                "parcours: worker(s) %s did not say they were ready within %.0f s; starting anyway",
                ", ".join(map(str, late)),
                ATTACH_WAIT_S,
            )
        order = self._order(time.time() + START_LEAD_S)
        runner = cast(MasterRunner, self.environment.runner)
        for index, client_id in enumerate(workers):
            runner.send_message(START, {**order, "index": index, "workers": len(workers)}, client_id)
        self._started()

    def _started(self) -> None:
        """The start is out: the time cap counts from now."""
        self.cap = gevent.spawn_later(self.time_cap_s(), self.on_time_cap)
        log.info(
            "parcours: replaying %s events over %.1f s to %s",
            f"{self.plan.requests:,}",
            self.plan.duration_s,
            self.environment.host,
        )

    def _order(self, t0_wall: float) -> dict[str, Any]:
        return {
            "run_dir": str(self.run.path.absolute()),
            "host": self.environment.host,
            "plan": self.plan.to_dict(),
            "mapping": self.mapping.spec.model_dump(mode="json"),
            "mapping_source": self.mapping.source,
            "connections": self.options.connections,
            "timeout_s": self.options.request_timeout,
            "t0_wall": t0_wall,
            "check": self.options.check,
            "out": str(self.out.absolute()),
        }

    def time_cap_s(self) -> float:
        """From the start sent: the planned length, the request timeout and a margin."""
        planned = START_LEAD_S + self.plan.duration_s
        return planned + self.options.request_timeout + TIME_CAP_MARGIN_S + TIME_CAP_MARGIN_SHARE * planned

    def on_time_cap(self) -> None:
        """The replay is still running at its time cap: stop it, gather what was measured, quit."""
        if self.finished:
            return
        log.warning("parcours: the replay reached its time cap of %.1f s; stopping", self.time_cap_s())
        self.stop_reason = verdicts.STOPPED_BY_TIME_CAP
        self.on_stop()
        self._quit()

    def _quit(self) -> None:
        if self.options.headless and not self.quitting:
            self.quitting = True
            gevent.spawn(self._quit_when_read)

    def _quit_when_read(self) -> None:
        # Locust rewrites its CSV once a second and not on exit: let it catch up first; and let a
        # scrape read the final metrics (up to --metrics-linger).
        gevent.sleep(CSV_SETTLE_S)
        if self.endpoint is not None:
            self.endpoint.linger(self.options.metrics_linger)
        self.environment.runner.quit()  # type: ignore[union-attr]

    def on_result(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.collect(msg.data)

    def collect(self, result: dict[str, Any]) -> None:
        self.results[int(result["index"])] = result
        self.snapshots[int(result["index"])] = result["live"]
        if len(self.results) >= self.expected and not self.finished:
            self.finish(interrupted=any(r["stopped"] for r in self.results.values()))
            self._quit()

    def on_stop(self, **_: Any) -> None:
        """The test is stopping before the replay finished: gather what the workers measured."""
        if self.finished:
            return
        if self.local is not None:
            self.local.halt()
        elif self.starter is not None and not self.starter.dead:
            self.starter.kill()  # stopped before the start went out: no worker has anything to report
        else:
            self.environment.runner.send_message(STOP)  # type: ignore[union-attr]
            deadline = time.monotonic() + RESULT_WAIT_S
            while len(self.results) < self.expected and time.monotonic() < deadline:
                gevent.sleep(0.05)
        if not self.finished:
            self.finish(interrupted=True)

    def finish(self, *, interrupted: bool) -> None:
        self.finished = True
        for greenlet in (self.cap, self.starter):
            if greenlet is not None and greenlet is not gevent.getcurrent():
                greenlet.kill(block=False)
        summary = verdicts.build(
            list(self.results.values()),
            self._context(),
            self.plan.to_dict(),
            max_lag_ms=self.options.max_lag_ms,
            interrupted=interrupted or len(self.results) < self.expected,
            stopped_by=self.stop_reason,
            time_cap_s=self.time_cap_s(),
        )
        verdicts.judge(summary, self.thresholds)
        if self.endpoint is not None:
            self.endpoint.finished = True
        path = write_summary(self.out, summary)
        log.info("parcours: summary in %s\n%s", path, verdicts.text(summary, self.thresholds))
        code = verdicts.exit_code(summary, self.thresholds)
        terminated = self.terminated and code == verdicts.EXIT_INTERRUPTED
        self.environment.process_exit_code = verdicts.EXIT_TERMINATED if terminated else code

    def _context(self) -> ReplaySettings:
        o = self.options
        return {
            "replay_id": self.out.name,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "run": str(self.run.path),
            "target": self.environment.host,
            "mapping": self.mapping.spec.name,
            "mapping_source": self.mapping.source,
            "speed": o.speed,
            "window": o.window or None,
            "max_gap": o.max_gap or None,
            "connections": o.connections,
            "request_timeout_s": o.request_timeout,
            "check": o.check,
            "workers_count": self.expected,
            "workers_reported": len(self.results),
        }
