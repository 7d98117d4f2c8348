"""One process's share of the replay: read ahead, hand each event over when due, send, measure.

The shape is SimPy's: plain loops named for what they do. ``dispatch`` walks one part in time order
and hands each event to its customer exactly when it is due (one monotonic clock, offsets from a
shared t0, so lateness never accumulates). ``serve`` is a customer's loop: it sends that customer's
events one after another, each after the previous response, and exits when the customer has nothing
due; a customer's next event starts it again. Reading happens in a real thread, one chunk ahead.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import gevent
import gevent.lock
import gevent.pool
import gevent.threadpool
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed

from parcours.loadtests.feed import Chunk, Share, ShareReader
from parcours.loadtests.mapping import ANY_EVENT, Mapping, Request
from parcours.loadtests.measure import DIMENSIONS, OK, OUTCOMES, Recorder, Registry
from parcours.loadtests.schedule import Plan
from parcours.loadtests.templates import NullField
from parcours.output.reader import Run

log = logging.getLogger("parcours.replay")

#: Headers every request carries, so the backend can measure its own queueing against the schedule.
EVENT_ID_HEADER = "X-Parcours-Event-Id"
DUE_HEADER = "X-Parcours-Due"  # seconds since the epoch, to the microsecond
WORKER_HEADER = "X-Parcours-Worker"
BATCH_HEADER = "X-Parcours-Events"
#: Hand-overs in a row without sleeping before the dispatcher yields to the customers anyway.
YIELD_EVERY = 64

T = TypeVar("T")
Item = tuple[Chunk, list[list[int]], int, float]  # chunk, its dimension codes, row, due (monotonic)


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when there was no response
    error: BaseException | None = None
    set_cookies: tuple[str, ...] = ()


class Sender(Protocol):
    def request(
        self,
        method: str,
        path: str,
        name: str,
        body: bytes | None,
        headers: dict[str, str],
        success: frozenset[int],
    ) -> Reply: ...


@dataclass(eq=False)
class Queue:
    """What one customer (or one batch lane) has due and not yet sent."""

    items: deque[Item] = field(default_factory=deque)


def prefetched(pool: gevent.threadpool.ThreadPool, chunks: Iterable[T]) -> Iterator[T]:
    """Iterate in a thread of ``pool``, always one item ahead, without blocking the gevent loop."""
    it = iter(chunks)
    ahead = pool.spawn(next, it, None)
    while (item := ahead.get()) is not None:
        ahead = pool.spawn(next, it, None)
        yield item


class Replay:
    """The replay of one share of a run: ``start``, then ``wait`` (or ``stop``), then ``result``."""

    def __init__(
        self,
        run_dir: Path,
        plan: Plan,
        mapping: Mapping,
        share: Share,
        sender: Sender,
        *,
        t0_wall: float,
        connections: int,
    ) -> None:
        self.plan, self.mapping, self.share, self.sender = plan, mapping, share, sender
        self.requests: dict[str, Request] = mapping.compile()
        self.batch = mapping.batch_max_events
        self.t0_wall = t0_wall
        # the shared start is wall-clock time; from here on only the monotonic clock counts
        self.t0 = time.monotonic() + (t0_wall - time.time())
        self.registry = Registry()
        self.recorder = Recorder(self.registry)
        self.queues: dict[int, Queue] = {}
        self.cookies: dict[int, dict[str, str]] = {}
        self.last_sent: dict[int, tuple[int, int]] = {}
        self.slots = gevent.lock.BoundedSemaphore(connections)
        self.lanes = connections
        self.customers = gevent.pool.Group()
        self.dispatchers = gevent.pool.Group()
        self.handed = 0
        self.first_sent: float | None = None
        self.last_done: float | None = None
        self.stopped = False
        self.readers = self._readers(Run(run_dir))
        self.threads = gevent.threadpool.ThreadPool(max(1, len(self.readers)))

    def _readers(self, run: Run) -> list[ShareReader]:
        parts = run.event_parts
        by_customer = self.share.by_customer(len(parts))
        return [
            ShareReader(parts[p], self.share, by_customer, self.mapping, self.plan.time_map, self.plan.speed)
            for p in self.share.parts(len(parts))
        ]

    def start(self) -> None:
        for reader in self.readers:
            self.dispatchers.spawn(self.dispatch, reader)

    def wait(self, timeout: float | None = None) -> bool:
        """Block this greenlet until every event was sent and answered; False on timeout."""
        self.dispatchers.join(timeout=timeout, raise_error=True)
        self.customers.join(timeout=timeout)
        return not self.dispatchers and not self.customers

    def stop(self, grace_s: float) -> None:
        """Hand over nothing more; give requests in flight ``grace_s`` to finish, then drop them."""
        self.stopped = True
        self.dispatchers.kill(block=True)
        self.customers.join(timeout=grace_s)
        self.customers.kill(block=True)

    # -- scheduling ----------------------------------------------------------------------------

    def dispatch(self, reader: ShareReader) -> None:
        """Hand each event of one part to its customer when it is due."""
        streak = 0
        for chunk in prefetched(self.threads, reader):
            self.recorder.unmapped.update(chunk.unmapped)
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
                    gevent.sleep(0)  # behind schedule: let the customers send what is due
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
        key = chunk.customer[i] if self.batch == 1 else chunk.customer[i] % self.lanes
        self.handed += 1
        queue = self.queues.get(key)
        if queue is not None:
            queue.items.append(item)  # its loop is running: it takes this one after the ones before
            return
        queue = self.queues[key] = Queue()
        queue.items.append(item)
        self.customers.spawn(self.serve, key, queue)

    def serve(self, key: int, queue: Queue) -> None:
        """A customer's loop (a lane's, when batching): send in order, each after the last response."""
        previous_done = 0.0
        try:
            while queue.items:
                if self.batch == 1:
                    previous_done = self.send_one(queue.items.popleft(), previous_done)
                else:
                    take = min(self.batch, len(queue.items))
                    previous_done = self.send_batch(
                        [queue.items.popleft() for _ in range(take)], previous_done
                    )
        finally:
            del self.queues[key]

    # -- sending -------------------------------------------------------------------------------

    def _request_for(self, event_type: str) -> Request:
        return self.requests.get(event_type) or self.requests[ANY_EVENT]

    def _check_order(self, customer: int, order: tuple[int, int]) -> None:
        last = self.last_sent.get(customer)
        if last is not None and order < last:
            self.recorder.order_violations += 1
        self.last_sent[customer] = order

    def _headers(self, req: Request, chunk: Chunk, i: int, due: float) -> dict[str, str]:
        headers = {name: fill(chunk.columns, i) for name, fill in req.headers}
        headers[EVENT_ID_HEADER] = str(chunk.event_id[i])
        headers[DUE_HEADER] = f"{self.t0_wall + (due - self.t0):.6f}"
        headers[WORKER_HEADER] = str(self.share.index)
        return headers

    def send_one(self, item: Item, previous_done: float) -> float:
        chunk, codes, i, due = item
        event_type = chunk.event_type[i]
        req = self._request_for(event_type)
        try:
            path = req.path(chunk.columns, i)
            headers = self._headers(req, chunk, i, due)
            body = None if req.body is None else json.dumps(req.body(chunk.columns, i)).encode()
        except NullField as null:
            self.recorder.skipped[f"{event_type} (null {null.field})"] += 1
            return previous_done
        customer = chunk.customer[i]
        jar = self.cookies.get(customer)
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if body is not None:
            headers["Content-Type"] = "application/json"
        self._check_order(customer, chunk.order[i])
        sent, done, reply = self._exchange(req, path, body, headers)
        if reply.set_cookies:
            self._keep_cookies(customer, reply.set_cookies)
        self._record(item, max(due, previous_done), sent, done, reply, req)
        return done

    def send_batch(self, items: list[Item], previous_done: float) -> float:
        """One request carrying several events as a JSON array (the mapping has a [batch] table)."""
        bodies, kept = [], []
        for item in items:
            chunk, _, i, _ = item
            req = self._request_for(chunk.event_type[i])
            try:
                bodies.append(None if req.body is None else req.body(chunk.columns, i))
                kept.append(item)
            except NullField as null:
                self.recorder.skipped[f"{chunk.event_type[i]} (null {null.field})"] += 1
        if not kept:
            return previous_done
        chunk, _, i, due = kept[0]
        req = self._request_for(chunk.event_type[i])
        headers = self._headers(req, chunk, i, due)
        headers[BATCH_HEADER] = str(len(kept))
        headers["Content-Type"] = "application/json"
        for k_chunk, _, k, _ in kept:
            self._check_order(k_chunk.customer[k], k_chunk.order[k])
        sent, done, reply = self._exchange(
            req, req.path(chunk.columns, i), json.dumps(bodies).encode(), headers
        )
        for item in kept:
            self._record(item, max(item[3], previous_done), sent, done, reply, req)
        return done

    def _exchange(
        self, req: Request, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[float, float, Reply]:
        with self.slots:  # waiting for a free connection is the replay's own lateness: it counts as lag
            sent = time.monotonic()
            reply = self.sender.request(req.method, path, req.name, body, headers, req.success)
            done = time.monotonic()
        if self.first_sent is None:
            self.first_sent = sent
        self.last_done = done if self.last_done is None else max(self.last_done, done)
        return sent, done, reply

    def _keep_cookies(self, customer: int, set_cookies: tuple[str, ...]) -> None:
        jar = self.cookies.setdefault(customer, {})
        for line in set_cookies:
            name, _, value = line.split(";", 1)[0].partition("=")
            jar[name.strip()] = value.strip()

    def _record(self, item: Item, ready: float, sent: float, done: float, reply: Reply, req: Request) -> None:
        chunk, codes, i, due = item
        outcome = classify(reply, req.success)
        if reply.status:
            self.recorder.status_codes[str(reply.status)] += 1
        if outcome != OK:
            detail = (
                f"status {reply.status}" if reply.status else f"{type(reply.error).__name__}: {reply.error}"
            )
            self.recorder.failed(outcome, chunk.event_type[i], detail)
        self.recorder.record((codes[0][i], codes[1][i], codes[2][i], due, ready, sent, done, outcome))

    def result(self) -> dict[str, Any]:
        out = self.recorder.result()
        out.update(
            index=self.share.index,
            handed=self.handed,
            customers=len(self.last_sent),
            first_sent_s=None if self.first_sent is None else self.first_sent - self.t0,
            last_done_s=None if self.last_done is None else self.last_done - self.t0,
            stopped=self.stopped,
        )
        return out


def classify(reply: Reply, success: frozenset[int]) -> int:
    """The outcome code of a reply: ok, a status the mapping does not accept, or the kind of failure."""
    if reply.status:
        return OK if reply.status in success else OUTCOMES.index("status")
    return OUTCOMES.index(error_kind(reply.error))


def error_kind(error: BaseException | None) -> str:
    """refused, timeout, closed (the peer hung up or answered garbage) or other."""
    while getattr(error, "original", None) is not None:  # geventhttpclient wraps the cause it gave up on
        error = error.original  # type: ignore[union-attr]
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError | gevent.Timeout):
        return "timeout"
    if isinstance(
        error,
        HTTPConnectionClosed
        | HTTPParseError
        | ConnectionResetError
        | BrokenPipeError
        | ConnectionAbortedError,
    ):
        return "closed"
    return "other"
