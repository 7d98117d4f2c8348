"""Where a run's shards execute: in this process, in local worker processes, or on a Dask cluster.

Every executor runs the same ``run_shard`` on the same arguments, so the output depends only on the
seed and the shard count, never on where the shards ran. Each shard writes its own Parquet parts to
the paths it is given; an executor only moves the shard's arguments, its progress ticks and its counts.
The run's staffing (forecasts and rosters) is planned once, here, and handed to every shard.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol, Self

from parcours import __version__
from parcours.errors import ParcoursError
from parcours.lifeline import die_with_parent
from parcours.simulator.model.inputs import Model
from parcours.simulator.run.options import Execution
from parcours.simulator.run.shard import ShardCounts, ShardPaths, run_shard
from parcours.simulator.world.staffing import Staffing, plan_staffing

POLL_S = 0.2  # how often the client looks for progress ticks while shards run
SHARD_DONE = None  # on the ticks' queue: a shard's future is done

ShardTick = Callable[[int, float, int], None]  # shard, simulated seconds done, events written
#: The signals that stop a run: Ctrl-C, and those the command line turns into the same interruption.
STOPPING = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)


class Executor(Protocol):
    """Runs every shard of a run and returns their counts, in shard order; a context manager."""

    def run(self, model: Model, paths: Sequence[ShardPaths], tick: ShardTick) -> list[ShardCounts]: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Pending(Protocol):
    """What a concurrent.futures and a Dask future have in common, as far as waiting goes."""

    def done(self) -> bool: ...

    def result(self) -> ShardCounts: ...

    def add_done_callback(self, fn: Callable[[Any], object]) -> None: ...


class _Closing:
    """Closes what the executor holds when the run is over, however it ends."""

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_executor(execution: Execution) -> Executor:
    """The executor of ``execution`` (checked when it was made); connects (or starts a cluster) now, so
    mistakes show early."""
    if execution.executor == "dask":
        return DaskExecutor.connect(execution.workers, execution.scheduler)
    return InProcess() if execution.workers == 1 else ProcessPool(execution.workers)


def _drain(ticks: queue.Queue[Any] | Any, tick: ShardTick, timeout: float) -> None:
    """Hand every waiting tick to ``tick``, waiting up to ``timeout`` for the first one (or a shard's
    end: ``_wait``)."""
    try:
        while True:
            item = ticks.get(timeout=timeout)
            if item is not SHARD_DONE:
                shard, sim_s, emitted = item
                tick(int(shard), float(sim_s), int(emitted))
            timeout = 0.0
    except queue.Empty:
        return


def _final_ticks(model: Model, counts: list[ShardCounts], tick: ShardTick) -> None:
    # Ticks travel separately from results and may arrive late (or, on a cluster, after the result):
    # the counts themselves say where each finished shard stands, so the display ends exact.
    for shard, c in enumerate(counts):
        tick(shard, model.horizon_s, c.events)


class InProcess(_Closing):
    """One shard, run here: no process start-up, ticks go straight to the display."""

    def run(self, model: Model, paths: Sequence[ShardPaths], tick: ShardTick) -> list[ShardCounts]:
        staffing = plan_staffing(model)
        return [run_shard(model, s, len(paths), p, tick, staffing) for s, p in enumerate(paths)]


# In a pool worker: the run's model and staffing, and the queue its shards' ticks go to (_init_worker).
_run: tuple[Model, Staffing] | None = None
_ticks: Any = None


def _init_worker(ticks: Any, parent: int, model: Model, staffing: Staffing) -> None:
    global _ticks, _run
    die_with_parent(parent, signal.SIGKILL)  # a shard whose run is gone has no one to hand its part to
    _own_signals()
    _ticks = ticks
    _run = (model, staffing)


def _own_signals() -> None:
    """A worker leaves stopping the run to the parent, which ends every worker when it stops.

    Forked, a worker holds the parent's handlers (which raise an interruption: a traceback from a worker
    waiting for its shard) and, started while they were held (``_signals_held``), the stopping signals
    blocked. Ctrl-C, which a terminal sends to every process of the command, is ignored here; any other
    stopping signal ends the worker at once, as the kernel does by default.
    """
    for sig in STOPPING:
        signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def _queue_tick(shard: int, sim_s: float, emitted: int) -> None:
    _ticks.put((shard, sim_s, emitted))


def _pool_shard(shard: int, shards: int, paths: ShardPaths) -> ShardCounts:
    assert _run is not None
    model, staffing = _run
    return run_shard(model, shard, shards, paths, _queue_tick, staffing)


def start_method() -> str:
    """Fork where it is safe, spawn elsewhere.

    A forked worker starts at once, with every module this process has imported and the run's model
    and staffing already in memory: spawning paid an interpreter, the imports (about half a second)
    and the model's pickling again in every worker. Forking a process that holds threads can copy a
    lock in a held state, so a process with other threads (parcours used as a library in a threaded
    program) spawns as before.
    """
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


class ProcessPool(_Closing):
    """Local worker processes that take the shards in turn (forked where safe: ``start_method``)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, model: Model, paths: Sequence[ShardPaths], tick: ShardTick) -> list[ShardCounts]:
        staffing = plan_staffing(model)
        context = mp.get_context(start_method())
        ticks = context.Queue()  # handed over at process start: a plain queue cannot travel with a task
        setup = (ticks, os.getpid(), model, staffing)
        # no process starts before the first submit
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_init_worker, initargs=setup
        ) as pool:
            try:
                with _signals_held():
                    futures = [pool.submit(_pool_shard, s, len(paths), p) for s, p in enumerate(paths)]
                counts = _wait(futures, ticks, tick)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: do not wait for the shards to finish
                _stop_now(pool)
                raise
        _final_ticks(model, counts, tick)
        return counts


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold the stopping signals while the pool starts its processes, and deliver them after.

    One that came between a fork and the pool's record of the new process would leave that process out
    of ``_stop_now``: it waited for a shard that never came (and this process, exiting, waited for it),
    or died of the closed queue with a traceback. Held, the signal arrives once every process is known.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield  # no signal mask here (Windows), or not the thread Python runs signal handlers in
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a held signal's handler runs now


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """End the pool's processes now: leaving the ``with`` block would wait for every running shard.

    Then wait for the pool's thread, which sees them gone and closes its pipes: left running, it would
    close them while the interpreter's exit writes to one (a CPython 3.11 race, an OSError traceback).
    """
    with _signals_held():  # a second Ctrl-C here would leave a process running, and this one waiting
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _wait(futures: Sequence[_Pending], ticks: Any, tick: ShardTick) -> list[ShardCounts]:
    # a shard's end wakes the wait at once: the next tick could be a whole POLL_S away
    for future in futures:
        future.add_done_callback(lambda _: ticks.put(SHARD_DONE))
    while not all(f.done() for f in futures):
        _drain(ticks, tick, timeout=POLL_S)
    _drain(ticks, tick, timeout=0.0)
    return [f.result() for f in futures]


class _TopicTick:
    """A shard's ticks on a Dask worker, sent as structured events the client subscribes to.

    ``Worker.log_event`` only queues the message on the worker's batched stream to the scheduler, so a
    tick never waits for a round trip the way a ``distributed.Queue.put`` would.
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def __call__(self, shard: int, sim_s: float, emitted: int) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, [shard, sim_s, emitted])


def _dask_shard(
    model: Model, staffing: Staffing, shard: int, shards: int, paths: ShardPaths, topic: str
) -> ShardCounts:
    return run_shard(model, shard, shards, paths, _TopicTick(topic), staffing)


def parcours_version() -> str:
    """Run on every worker before any shard: a worker without parcours, or another version, says so."""
    return __version__


class DaskExecutor(_Closing):
    """Shards as tasks on a Dask cluster: the one at ``scheduler``, or a local one started here."""

    def __init__(self, client: Any, cluster: Any | None) -> None:
        self.client = client
        self.cluster = cluster

    @classmethod
    def connect(cls, workers: int, scheduler: str | None) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ParcoursError(
                "--executor dask: dask.distributed is not installed; pip install 'parcours[dask]'"
            ) from None
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # a shard is single-threaded NumPy and SimPy: one per process
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # any free port: never collides with a running cluster
                silence_logs=logging.CRITICAL,  # task errors reach us as exceptions; the rest is noise
            )
            return cls(Client(cluster), cluster)
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as exc:
            raise ParcoursError(f"--scheduler {scheduler}: cannot reach a Dask scheduler ({exc})") from None
        executor = cls(client, None)
        try:
            executor.check_workers(scheduler)
        except BaseException:
            executor.close()
            raise
        return executor

    def check_workers(self, scheduler: str) -> None:
        try:
            self.client.wait_for_workers(1, timeout=30)
        except TimeoutError:
            raise ParcoursError(f"--scheduler {scheduler}: the cluster has no workers") from None
        try:
            versions = self.client.run(parcours_version)
        except ImportError as exc:
            raise ParcoursError(
                f"--scheduler {scheduler}: a worker cannot import parcours ({exc}); "
                "pip install 'parcours[dask]' on every worker"
            ) from None
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            raise ParcoursError(
                f"--scheduler {scheduler}: workers run another parcours version than {__version__}: {wrong}"
            )

    def run(self, model: Model, paths: Sequence[ShardPaths], tick: ShardTick) -> list[ShardCounts]:
        topic = f"parcours-progress-{uuid.uuid4().hex}"
        ticks: queue.Queue[Any] = queue.Queue()
        # the handler runs on the client's event loop thread: hand the tick over to this one
        self.client.subscribe_topic(topic, lambda event: ticks.put(event[1]))
        staffing = plan_staffing(model)
        try:
            futures = [
                self.client.submit(_dask_shard, model, staffing, s, len(paths), p, topic, pure=False)
                for s, p in enumerate(paths)
            ]
            counts = _wait(futures, ticks, tick)
        except OSError as exc:
            raise ParcoursError(
                f"--out: a worker could not write its part ({exc}); "
                "on a cluster, --out must be on a filesystem every worker and this machine share"
            ) from None
        finally:
            self.client.unsubscribe_topic(topic)
        _final_ticks(model, counts, tick)
        _check_visible(paths)
        return counts

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _check_visible(paths: Sequence[ShardPaths]) -> None:
    """Parts written on another machine's disk would leave a run whose files are elsewhere."""
    for p in paths:
        for path in (p.events, p.customers, p.journeys):
            if path is not None and not path.exists():
                raise ParcoursError(
                    f"--out: {path} was written where this machine cannot see it; "
                    "on a cluster, --out must be on a filesystem every worker and this machine share"
                )
