"""One shard, start to finish: its customers, their plan, the SimPy day, and its Parquet parts."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import simpy

from parcours.output.arrays import column, string_lists, strings, take
from parcours.output.rundir import ArrowSink, ParquetSink
from parcours.output.schema import (
    CHANNEL_CODE,
    CHANNEL_VALUES,
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    JOURNEY_SCHEMA,
    OUTCOME_VALUES,
    TIMESTAMP,
    dictionary,
)
from parcours.personas import DayPart, Persona
from parcours.simulator.model.buffer import EventBuffer
from parcours.simulator.model.identity import ACCOUNT, all_identities, identity_number, render
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers, distinct, draw_customers, shard_ids
from parcours.simulator.model.rng import Streams
from parcours.simulator.model.sorting import argsort_ints
from parcours.simulator.plan.campaigns import message_events
from parcours.simulator.plan.day import plan
from parcours.simulator.plan.expand import Context
from parcours.simulator.run.released import SEQ_BITS as SEQ_BITS
from parcours.simulator.run.released import Owners, ReleasedEvents
from parcours.simulator.world.engine import run_day
from parcours.simulator.world.staffing import Staffing, plan_staffing
from parcours.simulator.world.state import World
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel


@dataclass(frozen=True)
class ShardPaths:
    events: Path
    customers: Path | None  # None: no customers part (a run only read back for its figures, then removed)
    journeys: Path
    # True: parts as Arrow IPC streams (rundir.ArrowSink), for a run read once by this process, then removed
    scratch: bool = False
    # Encode on writer threads, beside the day (a core to spare), or inline, in the shard's own thread
    # (as many shard processes as cores: threads would only take turns with the day). The same bytes.
    threads: bool = True

    @property
    def sink(self) -> type[ParquetSink]:
        """The kind of part the shard writes: Parquet, or Arrow IPC for a scratch run."""
        return ArrowSink if self.scratch else ParquetSink


@dataclass(frozen=True)
class ShardCounts:
    customers: int  # the shard's share of the customer file
    customers_listed: int  # those with at least one event: the rows of its customers part
    events: int
    sessions: int
    journeys: int
    phone_agents: int
    chat_agents: int
    by_persona: tuple[int, ...] = ()  # the shard's customers per persona, in model.personas order


Tick = Callable[[int, float, int], None]


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run with the cyclic garbage collector triggered far less often.

    A shard's day makes millions of short-lived objects (SimPy events, visits) while holding hundreds
    of thousands of long-lived ones; at the default thresholds the collector kept walking them, which
    made a 1M-customer shard a fifth slower than ten 100k ones. Memory stays the same (measured).
    """
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_shard(
    model: Model,
    shard: int,
    shards: int,
    paths: ShardPaths,
    tick: Tick | None = None,
    staffing: Staffing | None = None,
) -> ShardCounts:
    """One shard of the run; ``staffing`` is the run's (``plan_staffing``, made once for all shards)."""
    try:
        with fewer_collections():
            return _run_shard(model, shard, shards, paths, tick, staffing or plan_staffing(model))
    finally:
        # A process runs shard after shard: the finished day's cycles (SimPy processes and their world)
        # go now, so that the next shard starts from what the last one left and memory follows a shard.
        gc.collect()


def _run_shard(
    model: Model, shard: int, shards: int, paths: ShardPaths, tick: Tick | None, staffing: Staffing
) -> ShardCounts:
    scenario = model.scenario
    streams = Streams(scenario.population.seed)
    ids = shard_ids(scenario.population.customers, scenario.stores.customers_per_store, shards, shard)
    if len(ids) == 0:  # more shards than stores: this one has none, and writes empty parts
        return _empty_shard(model, paths, tick, shard)
    file = draw_customers(model, streams, ids)
    journeys, sessions, messages, customers = plan(model, streams, file)
    stores, per_store = distinct(file.store)
    ctx = Context(model, streams, customers, journeys, len(file), stores, per_store)
    world = World(ctx, simpy.Environment(), EventBuffer(), staffing)
    with paths.sink(paths.events, EVENT_SCHEMA, background=paths.threads) as sink:
        owners = Owners.of_journeys(journeys.id, journeys.customer, customers.ids, customers.persona)
        released = ReleasedEvents(sink, shard, model.names, owners)

        def on_tick(sim_s: float, emitted: int) -> None:
            if tick is not None:
                tick(shard, sim_s, emitted)

        events = run_day(
            world, sessions, message_events(model, streams, customers, messages), released, on_tick
        )
        # The ground truth is built while the writer threads encode the last events. The customers come
        # first: their encoding (the identity strings) is the longest, and goes on while the journeys
        # are built.
        opened, span = released.opened(), released.span()
        has = span[1]  # journeys with at least one event
        listed, _ = distinct(journeys.customer[has])  # every event belongs to a journey: who appears
        with ExitStack() as parts:
            customers_sink = (
                None
                if paths.customers is None
                else parts.enter_context(
                    ParquetSink(paths.customers, CUSTOMER_SCHEMA, CUSTOMER_CHUNK, background=paths.threads)
                )
            )
            journeys_sink = parts.enter_context(
                paths.sink(paths.journeys, JOURNEY_SCHEMA, background=paths.threads)
            )
            if customers_sink is not None:
                _write_customers(model, streams, customers, listed, shard, customers_sink)
            _write_journeys(model, world, opened, span, shard, journeys_sink)
    return ShardCounts(
        len(file),
        len(listed),
        events,
        len(opened[0]),
        len(has),
        world.phone.agents.capacity,
        world.chat.agents.capacity,
        tuple(int(n) for n in np.bincount(file.persona, minlength=len(model.personas))),
    )


def _empty_shard(model: Model, paths: ShardPaths, tick: Tick | None, shard: int) -> ShardCounts:
    parts = (
        (paths.events, EVENT_SCHEMA),
        (paths.customers, CUSTOMER_SCHEMA),
        (paths.journeys, JOURNEY_SCHEMA),
    )
    for path, schema in parts:
        if path is not None:
            paths.sink(path, schema).close()
    if tick is not None:
        tick(shard, model.horizon_s, 0)
    return ShardCounts(0, 0, 0, 0, 0, 0, 0, (0,) * len(model.personas))


#: Customers per chunk, and per row group of the customers part. A chunk's row group is encoded by the
#: sink's thread while the next chunk is built: with one row group for the whole part, its encoding
#: (mostly the identity strings) only began once every chunk was built, and the shard waited for it.
CUSTOMER_CHUNK = 32_768


def _write_customers(
    model: Model, streams: Streams, c: Customers, listed: np.ndarray, shard: int, sink: ParquetSink
) -> None:
    """Ground truth for the customers at rows ``listed`` (those with an event), in chunks so the identity
    lists never fill memory. The others did nothing on the run: they are counted in run.json, and being a
    pure function of (seed, id), ``draw_customers`` gives any of them back."""
    extra = [Channel.STORE, Channel.KIOSK, *OUTBOUND_CHANNELS]
    channels = [[ch.value for ch in _persona_channels(p)] for p in model.personas]
    codes = sorted({CHANNEL_CODE[ch] for p in model.personas for ch in [*_persona_channels(p), *extra]})
    for first in range(0, len(listed), CUSTOMER_CHUNK):
        rows = listed[first : first + CUSTOMER_CHUNK]
        chunk = c.take(rows)  # the lazy columns drawn a chunk at a time
        ids = c.ids[rows]
        account_code = np.full(len(rows), ACCOUNT, np.int16)
        table = pa.table(
            {
                "customer_id": column(ids, pa.int64()),
                "persona": dictionary(c.persona[rows], strings(model.names)),
                "home_store_id": column(c.store[rows], pa.int32()),
                "account_id": render(account_code, identity_number(streams, ids, account_code)),
                "channels": take(string_lists(channels), column(c.persona[rows])),
                "opt_ins": _flags_as_lists(chunk.opt_in, [ch.value for ch in OUTBOUND_CHANNELS]),
                "identities": all_identities(streams, ids, codes, model.scenario.capabilities.identity),
                "shard": column(np.full(len(rows), shard, np.int32)),
            },
            schema=CUSTOMER_SCHEMA,
        )
        for batch in table.to_batches():
            sink.write(batch)


def _flags_as_lists(flags: np.ndarray, names: list[str]) -> pa.Array:
    """A (rows, names) boolean matrix as a list column of the names that are set, row by row."""
    row, col = np.nonzero(flags)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(flags)))]).astype(np.int32)
    return pa.ListArray.from_arrays(column(offsets), take(strings(names), column(col)))


def _persona_channels(persona: Persona) -> list[Channel]:
    seen: dict[Channel, None] = {}
    for weekend in (False, True):
        mix = persona.channel_mix(weekend)
        for part in DayPart:
            for ch, share in mix.shares(part).items():
                if share > 0:
                    seen[ch] = None
    return sorted(seen, key=list(Channel).index)


def first_uses(jrow: np.ndarray, channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each journey's channels in the order it first used them: (journey row, channel) pairs by journey,
    then by first use, from sessions' openings in time order (journey rows, channel codes below 64).

    One stable sort by (journey, channel) finds each pair's first opening; the pairs are then put in
    (journey, first opening) order by a sort of one packed integer: the order sorting the openings by
    journey, then deduplicating (journey, channel) gives, with two sorts instead of three."""
    jrow = np.asarray(jrow, dtype=np.int64)
    n = len(jrow)
    if n == 0:
        return jrow, np.asarray(channel)
    key = jrow * 64 + channel
    order = argsort_ints(key)  # stable: each pair's openings in time order
    key = key[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    at = order[first]  # each pair's first opening
    bits = (n - 1).bit_length()
    if int(jrow.max()).bit_length() + bits <= 62:
        packed = (jrow[at] << bits) | at
        packed.sort()
        at = packed & ((1 << bits) - 1)
    else:
        at = at[np.lexsort((at, jrow[at]))]
    return jrow[at], np.asarray(channel)[at]


def _write_journeys(
    model: Model,
    world: World,
    opened: tuple[np.ndarray, np.ndarray],
    span_ms: tuple[np.ndarray, np.ndarray, np.ndarray],
    shard: int,
    sink: ParquetSink,
) -> None:
    """One row per journey that happened (rows ``has``), with its channels in the order they were used."""
    used_row, used_channel = first_uses(*opened)
    start_ms_all, has, end_ms = span_ms
    counts = np.bincount(used_row, minlength=len(world.ctx.journeys))[has]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    channel_names = pa.ListArray.from_arrays(column(offsets), take(CHANNEL_VALUES, column(used_channel)))
    first_start = start_ms_all[has]
    crow = world.ctx.journeys.customer[has]
    c = world.ctx.customers
    table = pa.table(
        {
            "journey_id": column(world.ctx.journeys.id[has], pa.int64()),
            "customer_id": column(c.ids[crow], pa.int64()),
            "persona": dictionary(c.persona[crow], strings(model.names)),
            "start": column(first_start, TIMESTAMP),
            "end": column(end_ms[has], TIMESTAMP),
            "channels": channel_names,
            "outcome": dictionary(world.outcome[has], OUTCOME_VALUES),
            "revenue_cents": column(world.revenue[has], pa.int64()),
            "shard": column(np.full(len(has), shard, np.int32)),
        },
        schema=JOURNEY_SCHEMA,
    )
    for batch in table.to_batches(max_chunksize=262_144):
        sink.write(batch)
