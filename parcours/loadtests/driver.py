"""One process's share of the replay: read ahead, hand each event over when due, send, measure.

The shape is SimPy's: plain loops named for what they do. ``dispatch`` walks one part in time order
and hands each event to its customer exactly when it is due (one monotonic clock, offsets from a
shared t0, so lateness never accumulates). A customer with something due waits in the ready line;
each of ``connections`` ``send`` loops takes the customer at the head, sends its next event, and
after the response puts the customer back in line if more is due. So a customer is never in line
twice nor in flight twice: its events go out in order, each after the previous response, while
many customers are served at once. Reading happens in a real thread, one chunk ahead.

Why a fixed set of send loops rather than one greenlet per customer behind a semaphore: with
thousands of customers due at once, a semaphore's waiters make every release slower, and spawning
a greenlet per idle customer costs more than the request; the line costs O(1) per event.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.pool
import gevent.queue
import gevent.threadpool

from parcours.loadtests.checks import Checker, run_level
from parcours.loadtests.feed import Accounts, Chunk, Share, ShareReader, prefetched
from parcours.loadtests.live import LiveCounts
from parcours.loadtests.mapping import Mapping, Request
from parcours.loadtests.measure import DIMENSIONS, OK, UNANSWERED, Recorder, Registry
from parcours.loadtests.requestlog import RequestLog
from parcours.loadtests.schedule import Schedule
from parcours.loadtests.sender import Reply, Sender, classify
from parcours.output.reader import Run
from parcours.output.replays import request_part

BATCH_HEADER = "X-Parcours-Events"
#: Hand-overs in a row without sleeping before the dispatcher yields to the senders anyway.
YIELD_EVERY = 64
#: Events handed over and not yet answered beyond which a dispatcher that is behind stops reading on:
#: the lag is measured either way, and memory stays bounded.
MAX_PENDING = 20_000

Item = tuple[Chunk, list[list[int]], int, float]  # chunk, its dimension codes, row, due (monotonic)
Flight = tuple[list[tuple[Item, float]], float, Request]  # (event, ready) pairs, sent, the request


@dataclass(eq=False)
class Lane:
    """What one customer (or one batch lane) has due and not yet sent."""

    key: int
    items: deque[Item] = field(default_factory=deque)
    previous_done: float = 0.0  # when its last response came back
    busy: bool = False  # in the ready line or in flight


class ShareReplay:
    """The replay of one share of a run: ``start``, then ``wait`` (or ``stop``), then ``result``."""

    def __init__(
        self,
        run_dir: Path,
        plan: Schedule,
        mapping: Mapping,
        share: Share,
        sender: Sender,
        *,
        t0_wall: float,
        connections: int,
        check: bool = False,
        out: Path | None = None,
    ) -> None:
        self.plan, self.mapping, self.share, self.sender = plan, mapping, share, sender
        run = Run(run_dir)
        self.check_level = run_level(run) if check else None
        self.requests: dict[str, Request] = mapping.compile(check_level=self.check_level)
        self.batch = mapping.batch_max_events
        self.linger_s = mapping.batch_linger_s
        self.t0_wall = t0_wall
        # the shared start is wall-clock time; from here on only the monotonic clock counts
        self.t0 = time.monotonic() + (t0_wall - time.time())
        self.registry = Registry()
        folds = gevent.threadpool.ThreadPool(1)
        self.live = LiveCounts()
        self.recorder = Recorder(self.registry, folds, self.live)
        part = None if out is None else request_part(out, share.index)
        names = self.registry.names
        self.log = None if part is None else RequestLog(part, share.index, names, t0_wall - self.t0, folds)
        self.checker = Checker()
        self.queues: dict[int, Lane] = {}
        self.ready: gevent.queue.Queue[Lane | None] = gevent.queue.Queue()
        # one cookie jar per customer and device: a customer's phone and desktop sessions stay apart
        self.cookies: dict[tuple[int, int], dict[str, str]] = {}
        self.last_sent: dict[int, tuple[int, int]] = {}
        self.connections = connections
        self.senders = gevent.pool.Group()
        self.dispatchers = gevent.pool.Group()
        self.handed = 0
        self.pending = 0  # handed over, not yet answered (or skipped)
        self.idle = gevent.event.Event()
        self.first_sent: float | None = None
        self.last_done: float | None = None
        self.stopped = False
        self.in_flight = 0  # events whose request is out, waiting for its answer
        self.sent = 0  # events whose request went out
        self.unanswered = 0  # events whose request was out when the replay stopped
        #: requests out now, by a number of their own: what a stop records as unanswered
        self.flights: dict[int, Flight] = {}
        self.flight_numbers = 0
        self.readers = self._readers(run)
        self.threads = gevent.threadpool.ThreadPool(max(1, len(self.readers)))

    def _readers(self, run: Run) -> list[ShareReader]:
        parts = run.event_parts
        by_customer = self.share.by_customer(len(parts))
        mine = self.share.parts(len(parts))
        modulo = (self.share.workers, self.share.index) if by_customer else None
        accounts = Accounts(run.path, mine, modulo) if "account_id" in self.mapping.fields else None
        return [
            ShareReader(parts[p], self.share, by_customer, self.mapping, self.plan.time_map,
                        self.plan.speed, self.t0_wall, self.check_level, accounts)
            for p in mine
        ]  # fmt: skip

    def start(self) -> None:
        # Everything alive now (Locust, gevent, the plan) lives to the end of the process: a full
        # collection scanning it would stall the loop for tens of ms, so the collector skips it.
        gc.freeze()
        for reader in self.readers:
            self.dispatchers.spawn(self.dispatch, reader)
        for _ in range(self.connections):
            self.senders.spawn(self.send)

    def wait(self) -> None:
        """Block this greenlet until every event was handed over, sent and answered."""
        self.dispatchers.join(raise_error=True)
        self.idle.clear()
        if self.pending:
            self.idle.wait()
        self._release_senders()
        self.senders.join()

    def stop(self, grace_s: float) -> None:
        """Hand over nothing more; give requests in flight ``grace_s`` to finish, then drop them.

        The events of a dropped request are counted as sent without an answer (``unanswered``) and
        logged so: the target may have received them, so they are not "not sent".
        """
        self.stopped = True
        self.dispatchers.kill(block=True)
        self._release_senders()
        self.senders.join(timeout=grace_s)
        self.senders.kill(block=True)
        given_up = time.monotonic()
        for pairs, sent, req in self.flights.values():
            for item, ready in pairs:
                _, codes, i, due = item
                row = (codes[0][i], codes[1][i], codes[2][i], due, ready, sent, given_up, UNANSWERED, 0)
                self.recorder.record(row)
                self._log(item, req, (due, sent, given_up), 0, UNANSWERED, None)
                self.unanswered += 1
        self.flights.clear()
        self.in_flight = 0

    def _release_senders(self) -> None:
        for _ in range(len(self.senders)):
            self.ready.put(None)

    # -- scheduling ----------------------------------------------------------------------------

    def dispatch(self, reader: ShareReader) -> None:
        """Hand each event of one part to its customer when it is due."""
        streak = 0
        for chunk in prefetched(self.threads, reader):
            codes = self._codes(chunk)
            for i, offset in enumerate(chunk.offset_s):
                due = self.t0 + offset
                delay = due - time.monotonic()
                if delay > 0:
                    streak = 0
                    while delay > 0:  # the loop's timers may wake a hair early
                        gevent.sleep(delay)
                        delay = due - time.monotonic()
                elif (streak := streak + 1) >= YIELD_EVERY:
                    streak = 0
                    gevent.sleep(0)  # behind schedule: let the senders send what is due
                    while self.pending >= MAX_PENDING:  # far behind: read no further ahead
                        gevent.sleep(0.005)
                self.hand_over((chunk, codes, i, due))

    def _codes(self, chunk: Chunk) -> list[list[int]]:
        """Each row's channel, persona and event type codes in this process's registry."""
        out = []
        for dimension in DIMENSIONS:
            names, rows = chunk.names[dimension]
            out.append(self.registry.codes(dimension, names)[rows].tolist() if len(names) else [])
        return out

    def hand_over(self, item: Item) -> None:
        chunk, _, i, _ = item
        key = chunk.customer[i] if self.batch == 1 else chunk.customer[i] % self.connections
        self.handed += 1
        self.pending += 1
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = Lane(key)
        queue.items.append(item)
        if not queue.busy:  # otherwise it is in line or in flight, and takes this one after the others
            queue.busy = True
            self.ready.put(queue)

    def send(self) -> None:
        """One connection's loop: serve the customer at the head of the ready line, one event at a time."""
        while (queue := self.ready.get()) is not None:
            if self.batch == 1:
                n = 1
                queue.previous_done = self.send_one(queue.items.popleft(), queue.previous_done)
            else:
                intended = self.linger(queue)
                n = min(self.batch, len(queue.items))
                items = [queue.items.popleft() for _ in range(n)]
                queue.previous_done = self.send_batch(items, max(queue.previous_done, intended))
            self.pending -= n
            if self.stopped:
                return
            if queue.items:
                self.ready.put(queue)  # more is due already: back in line, behind the others
            else:
                queue.busy = False
                del self.queues[queue.key]  # an idle customer holds nothing but its cookies
            if not self.pending:
                self.idle.set()

    def linger(self, queue: Lane) -> float:
        """Wait (up to the mapping's linger after the first event was due) for a fuller batch.

        Returns when the batch was meant to leave: the replay's own lateness is counted from there.
        """
        deadline = queue.items[0][3] + self.linger_s
        while len(queue.items) < self.batch and (left := deadline - time.monotonic()) > 0:
            gevent.sleep(min(left, 0.002))
        return min(deadline, time.monotonic())

    # -- sending -------------------------------------------------------------------------------

    def _check_order(self, customer: int, order: tuple[int, int]) -> None:
        last = self.last_sent.get(customer)
        if last is not None and order < last:
            self.recorder.order_violations += 1
        self.last_sent[customer] = order

    def _skipped(self, item: Item) -> bool:
        """An event whose request needs a field it lacks (or holds a CR in a header) is counted, not sent."""
        chunk, _, i, _ = item
        why = chunk.null_field[i]  # a field it lacks, or "field: what is wrong with its value"
        if why is None:
            return False
        self.recorder.skipped[f"{chunk.event_type[i]} ({why if ':' in why else f'null {why}'})"] += 1
        return True

    def send_one(self, item: Item, previous_done: float) -> float:
        if self._skipped(item):
            return previous_done
        chunk, codes, i, due = item
        req = self.requests[chunk.request[i]]
        headers = chunk.headers[i]
        customer = chunk.customer[i]
        device = (customer, codes[0][i])  # the channel: a customer's device id is one per channel
        jar = self.cookies.get(device)
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        self._check_order(customer, chunk.order[i])
        ready = max(due, previous_done)
        sent, done, reply = self._exchange(req, chunk.path[i], chunk.body[i], headers, [(item, ready)])
        if reply.set_cookies:
            self._keep_cookies(device, reply.set_cookies)
        self._record(item, ready, sent, done, reply, req)
        return done

    def send_batch(self, items: list[Item], previous_done: float) -> float:
        """One request carrying several events as a JSON array (the mapping has a [batch] table)."""
        kept = [item for item in items if not self._skipped(item)]
        if not kept:
            return previous_done
        chunk, _, i, _ = kept[0]
        req = self.requests[chunk.request[i]]
        headers = {**chunk.headers[i], BATCH_HEADER: str(len(kept)), "Content-Type": "application/json"}
        body = b"[" + b",".join(c.body[k] or b"null" for c, _, k, _ in kept) + b"]"
        for k_chunk, _, k, _ in kept:
            self._check_order(k_chunk.customer[k], k_chunk.order[k])
        pairs = [(item, max(item[3], previous_done)) for item in kept]
        sent, done, reply = self._exchange(req, chunk.path[i], body, headers, pairs)
        for item, ready in pairs:
            self._record(item, ready, sent, done, reply, req)
        return done

    def _exchange(
        self,
        req: Request,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        pairs: list[tuple[Item, float]],
    ) -> tuple[float, float, Reply]:
        """Send one request; while it is out, its events are in ``flights`` (a stop records them)."""
        sent = time.monotonic()
        self.flight_numbers += 1
        number = self.flight_numbers
        self.flights[number] = (pairs, sent, req)
        self.in_flight += len(pairs)
        self.sent += len(pairs)
        reply = self.sender.request(req.method, path, req.name, body, headers, req.success)
        done = time.monotonic()
        del self.flights[number]  # not reached when a stop kills this greenlet: the stop records them
        self.in_flight -= len(pairs)
        if self.first_sent is None:
            self.first_sent = sent
        self.last_done = done if self.last_done is None else max(self.last_done, done)
        return sent, done, reply

    def _keep_cookies(self, device: tuple[int, int], set_cookies: tuple[str, ...]) -> None:
        jar = self.cookies.setdefault(device, {})
        for line in set_cookies:
            name, _, value = line.split(";", 1)[0].partition("=")
            jar[name.strip()] = value.strip()

    def _record(self, item: Item, ready: float, sent: float, done: float, reply: Reply, req: Request) -> None:
        chunk, codes, i, due = item
        status = reply.status
        outcome = OK if status in req.success else classify(reply, req.success)
        if status:
            self.recorder.status_codes[status] += 1
        if outcome != OK:
            detail = f"status {status}" if status else f"{type(reply.error).__name__}: {reply.error}"
            self.recorder.failed(outcome, chunk.event_type[i], detail)
        verdict = self._judge(chunk, codes, i, req, reply) if outcome == OK and req.rules else None
        self.recorder.record((codes[0][i], codes[1][i], codes[2][i], due, ready, sent, done, outcome, status))
        self._log(item, req, (due, sent, done), status, outcome, verdict)

    def _log(
        self,
        item: Item,
        req: Request,
        times: tuple[float, float, float],
        status: int,
        outcome: int,
        verdict: str | None,
    ) -> None:
        chunk, codes, i, _ = item
        if self.log is not None:
            self.log.add(
                chunk.event_id[i], chunk.customer[i], (codes[0][i], codes[1][i], codes[2][i]), req.name,
                times, status, outcome, verdict,
            )  # fmt: skip

    def _judge(self, chunk: Chunk, codes: list[list[int]], i: int, req: Request, reply: Reply) -> str | None:
        """Check an answer against the request's continuity rules: None (nothing checked), ok or a kind."""
        applied, found = self.checker.judge(chunk.customer[i], req.rules, chunk.checks[i] or {}, reply.body)
        if not applied:
            return None
        self.recorder.checked += 1
        channel = self.registry.names["channel"][codes[0][i]]
        for v in found:
            self.recorder.violation(v.kind, channel, {
                "event_id": chunk.event_id[i], "customer_id": chunk.customer[i], "channel": channel,
                "event_type": chunk.event_type[i], "expected": v.expected, "got": v.got[:200],
            })  # fmt: skip
        return found[0].kind if found else "ok"

    def snapshot(self, fold: bool = False) -> dict[str, Any]:
        """The live metrics' counts so far; ``fold``: first fold what was recorded (in the thread)."""
        r = self.recorder
        if fold:
            r.flush()
        gauges = {"due": self.handed, "sent": self.sent, "in_flight": self.in_flight,
                  "skipped": sum(r.skipped.values()), "order_violations": r.order_violations}  # fmt: skip
        return self.live.snapshot(gauges, [(k, c, n) for (k, c), n in sorted(r.violations.items())])

    def result(self) -> dict[str, Any]:
        out = self.recorder.result()
        if self.log is not None:
            out["logged"] = self.log.close()
            self.log = None
        out.update(
            index=self.share.index,
            handed=self.handed,
            customers=len(self.last_sent),
            first_sent_s=None if self.first_sent is None else self.first_sent - self.t0,
            last_done_s=None if self.last_done is None else self.last_done - self.t0,
            stopped=self.stopped,
            unanswered=self.unanswered,
            live=self.snapshot(),
        )
        return out
