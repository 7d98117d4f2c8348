"""The naive baseline: the same day as parcours, simulated the straightforward SimPy way.

One SimPy process per customer, one ``env.timeout`` per event, call-centre agents and store staff as
SimPy resources, each event appended to column lists and written to Parquet in batches with pyarrow.
It reads the same scenario and persona files as parcours (journeys, sessions, hours, channel mixes,
purchase propensity, patience, staffing) and the same session shapes (looks and dwell per channel), so
it produces about the same number of events per customer. It is meant to be a competent first
implementation, not a strawman: scalar random draws come from a buffered NumPy block, strings are
shared objects, and rows are converted to Arrow once per batch.

    python benchmarks/naive_simpy.py --customers 100000 --out /tmp/naive.parquet
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import simpy

from parcours.personas import HOUR_PART, Persona, builtin_names, get_persona
from parcours.scenarios import Scenario, get_scenario
from parcours.scenarios.spec import OpeningHours
from parcours.simulator.model.channels import SHAPES
from parcours.vocabulary import Channel

DAY_S = 86_400.0
BATCH_ROWS = 100_000
SERVICE = (Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.SOCIAL)
SCHEMA = pa.schema(
    [
        ("event_id", pa.int64()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("customer_id", pa.int64()),
        ("persona", pa.string()),
        ("channel", pa.string()),
        ("event_type", pa.string()),
        ("session_id", pa.int64()),
        ("journey_id", pa.int64()),
        ("product_id", pa.int64()),
        ("amount_cents", pa.int64()),
    ]
)


class Draws:
    """Scalar random numbers from one seeded generator, drawn a block at a time (scalar calls are slow)."""

    def __init__(self, seed: int, block: int = 1 << 16) -> None:
        self.rng = np.random.default_rng(seed)
        self.block = block
        self._refill()

    def _refill(self) -> None:
        self.values = self.rng.random(self.block).tolist()
        self.i = 0

    def uniform(self) -> float:
        if self.i == self.block:
            self._refill()
        self.i += 1
        return float(self.values[self.i - 1])

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.uniform())

    def poisson(self, lam: float) -> int:
        u, k, p = self.uniform(), 0, math.exp(-lam)
        cdf = p
        while u > cdf and k < 64:
            k += 1
            p *= lam / k
            cdf += p
        return k

    def choice(self, cumulative: list[tuple[float, Any]]) -> Any:
        u = self.uniform()
        for bound, value in cumulative:
            if u < bound:
                return value
        return cumulative[-1][1]


def _cumulative(weights: dict[Any, float]) -> list[tuple[float, Any]]:
    total, out = sum(weights.values()), []
    running = 0.0
    for key, weight in weights.items():
        running += weight / total
        out.append((running, key))
    return out


class EventLog:
    """Events appended as row tuples; a full batch is transposed and goes to Parquet as one record batch."""

    def __init__(self, path: Path, t0_ms: int) -> None:
        self.writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
        self.t0_ms = t0_ms
        self.rows = 0
        self.pending: list[tuple[Any, ...]] = []

    def add(
        self,
        now_s: float,
        who: tuple[int, str, str, int, int],
        kind: str,
        product: int | None = None,
        amount: int | None = None,
    ) -> None:
        """One event at ``now_s``; ``who`` is (customer, persona, channel, session, journey)."""
        customer, persona, channel, session, journey = who
        ts_ms = self.t0_ms + int(now_s * 1000.0)
        self.pending.append(
            (self.rows, ts_ms, customer, persona, channel, kind, session, journey, product, amount)
        )
        self.rows += 1
        if len(self.pending) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            columns = zip(*self.pending, strict=True)
            arrays = [pa.array(col, type=field.type) for col, field in zip(columns, SCHEMA, strict=True)]
            self.writer.write_batch(pa.record_batch(arrays, schema=SCHEMA))
            self.pending = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _open_hours(hours: OpeningHours, weekday: int) -> list[bool]:
    minutes = hours.minutes_on(weekday)
    if minutes is None:
        return [False] * 24
    opens, closes = minutes
    return [opens <= h * 60 and (h + 1) * 60 <= closes for h in range(24)]


# A fixed roster: the baseline measures an engine, not staffing (parcours rosters from an Erlang
# forecast, parcours.simulator.world.staffing); these are parcours's ordinary-day sizes, rounded.
AGENTS_PER_10K, CHAT_AGENTS_PER_10K, STAFF_PER_STORE = 0.8, 0.5, 3


@dataclass
class World:
    """Everything the customers share: the clock, the desks, the log, the scenario's numbers."""

    env: simpy.Environment
    draws: Draws
    log: EventLog
    scenario: Scenario
    phone: simpy.Resource
    chat: simpy.Resource
    staff: list[simpy.Resource]
    open_store: list[bool]
    open_desk: list[bool]


@dataclass(frozen=True)
class Profile:
    """A persona's numbers in the shapes the naive model reads them in."""

    persona: Persona
    hours: list[tuple[float, Any]]
    channels: list[list[tuple[float, Any]]]  # per hour
    service: list[list[tuple[float, Any]]]  # per hour


def _profile(persona: Persona) -> Profile:
    mix = persona.channel_mix(False)
    channels = [_cumulative(dict(mix.shares(HOUR_PART[h]))) for h in range(24)]
    service = []
    for h in range(24):
        shares = {c: mix.shares(HOUR_PART[h]).get(c, 0.0) + 0.01 for c in SERVICE}
        service.append(_cumulative(shares))
    return Profile(persona, _cumulative(dict(enumerate(persona.activity.hourly_weekday))), channels, service)


def customer_day(world: World, cid: int, profile: Profile) -> Generator[simpy.Event, Any, None]:
    """A customer's day: plan the journeys, then live their sessions in time order."""
    d, p = world.draws, profile.persona
    demand = world.scenario.demand  # a scenario's multipliers, as parcours applies them
    spread = p.activity.activity_spread
    normal = math.sqrt(-2 * math.log(1 - d.uniform())) * math.cos(2 * math.pi * d.uniform())
    activity = math.exp(spread * normal - spread**2 / 2)  # log-normal around the persona's mean
    account = d.uniform() < p.reach.has_account
    plan: list[tuple[float, int, int, Channel, bool]] = []  # start, journey, step, channel, buys now
    # the calibrated rate: intents a year spread over the year's days (no renewal memory, no research
    # days: the naive baseline keeps one day's plan)
    intents_per_day = p.activity.purchases_per_year / max(p.purchase.propensity, 1e-3) / 365.0
    for j in range(d.poisson(intents_per_day * demand.journeys_multiplier * activity)):
        start = (d.choice(profile.hours) + d.uniform()) * 3600.0
        steps, buys = (
            1 + d.poisson(p.activity.research_sessions),
            d.uniform() < p.purchase.propensity,
        )
        for step in range(steps):
            channel = _channel(world, profile.channels[int(start // 3600) % 24], start)
            plan.append((start, cid * 256 + j, step, channel, buys and step == steps - 1))
            start += d.exponential(p.activity.minutes_between_sessions * 60.0)
    for k in range(d.poisson(p.patience.service_contacts_per_day * demand.contacts_multiplier * activity)):
        start = (d.choice(profile.hours) + d.uniform()) * 3600.0
        plan.append(
            (
                start,
                cid * 256 + 128 + k,
                0,
                _channel(world, profile.service[int(start // 3600)], start),
                False,
            )
        )
    plan.sort(key=lambda s: s[0])
    for start, journey, step, channel, buys in plan:
        if start >= DAY_S:
            break
        if start > world.env.now:
            yield world.env.timeout(start - world.env.now)
        yield from session(world, (cid, account), p, journey, journey * 16 + step, channel, buys)


def _channel(world: World, table: list[tuple[float, Any]], start_s: float) -> Channel:
    channel: Channel = world.draws.choice(table)
    hour = int(start_s // 3600) % 24
    if (channel == Channel.STORE and not world.open_store[hour]) or (
        channel in (Channel.PHONE, Channel.CHAT) and not world.open_desk[hour]
    ):
        return Channel.MOBILE_WEB  # closed: the customer goes online instead
    return channel


def session(
    world: World, customer: tuple[int, bool], p: Persona, journey: int, sid: int, channel: Channel, buys: bool
) -> Generator[simpy.Event, Any, None]:
    """A session's events, one timeout after each; ``customer`` is (id, has an account)."""
    cid, account = customer
    if channel in (Channel.PHONE, Channel.CHAT):
        yield from desk(world, cid, p, journey, sid, channel)
        return
    env, d, log, shape = world.env, world.draws, world.log, SHAPES[channel]
    product = int(world.scenario.stores.products * d.uniform() ** 3)

    who = (cid, p.name, channel.value, sid, journey)

    def emit(kind: str, product: int | None = None, amount: int | None = None) -> None:
        log.add(env.now, who, kind, product, amount)

    def step(kind: str, product: int | None = None, amount: int | None = None) -> simpy.Event:
        emit(kind, product, amount)
        return env.timeout(d.exponential(shape.dwell_s))

    yield step("store_enter" if channel == Channel.STORE else "session_start")
    if shape.identifies and account and d.uniform() < p.reach.login_rate:
        yield step("login")
    for _ in range(1 + d.poisson(shape.mean_views)):
        yield step(("search", "page_view", "product_view")[min(2, int(d.uniform() * 3))], product)
    if channel == Channel.STORE and d.uniform() < world.scenario.stores.assist_rate:
        staff = world.staff[cid // world.scenario.stores.customers_per_store]
        with staff.request() as req:
            yield req
            yield step("staff_assist")
            yield env.timeout(d.exponential(world.scenario.stores.mean_assist_s))
    if buys and shape.can_buy:
        amount = int(
            p.purchase.mean_basket_eur * 100 * math.exp(p.purchase.basket_sigma * (d.uniform() - 0.5))
        )
        yield step("cart_add", product)
        yield step("checkout", product)
        yield step("purchase", product, amount)
    emit("store_exit" if channel == Channel.STORE else "session_end")


def desk(
    world: World, cid: int, p: Persona, journey: int, sid: int, channel: Channel
) -> Generator[simpy.Event, Any, None]:
    env, d, cc = world.env, world.draws, world.scenario.call_centre
    phone = channel == Channel.PHONE
    kind = "call" if phone else "chat"
    who = (cid, p.name, channel.value, sid, journey)
    world.log.add(env.now, who, f"{kind}_queued")
    with (world.phone if phone else world.chat).request() as req:
        got = yield req | env.timeout(d.exponential(p.patience.mean_wait_s))
        if req not in got:
            world.log.add(env.now, who, f"{kind}_abandoned")
            return
        world.log.add(env.now, who, f"{kind}_answered")
        yield env.timeout(d.exponential(cc.mean_talk_s if phone else cc.mean_chat_s))
    world.log.add(env.now, who, f"{kind}_end")


def _personas(scenario: Scenario) -> tuple[list[Persona], list[float]]:
    mix = scenario.population.personas
    names = list(mix) if mix is not None else builtin_names()
    personas = [get_persona(n) for n in names]
    return personas, [mix[n] for n in names] if mix is not None else [p.population_share for p in personas]


def simulate(scenario_name: str, customers: int, seed: int, out: Path) -> dict[str, Any]:
    began = time.perf_counter()
    scenario = get_scenario(scenario_name)
    personas, shares = _personas(scenario)
    profiles = [_profile(p) for p in personas]
    env = simpy.Environment()
    cc, stores = scenario.call_centre, scenario.stores
    first = scenario.calendar.start
    midnight = dt.datetime(first.year, first.month, first.day, tzinfo=scenario.calendar.zone)
    t0_ms = int(midnight.timestamp() * 1000)
    world = World(
        env,
        Draws(seed),
        EventLog(out, t0_ms),
        scenario,
        simpy.Resource(env, max(1, math.ceil(AGENTS_PER_10K * customers / 10_000))),
        simpy.Resource(env, max(1, math.ceil(CHAT_AGENTS_PER_10K * customers / 10_000))),
        [simpy.Resource(env, STAFF_PER_STORE) for _ in range(customers // stores.customers_per_store + 1)],
        _open_hours(stores, first.weekday()),
        _open_hours(cc, first.weekday()),
    )
    which = _cumulative(dict(enumerate(shares)))
    for cid in range(customers):
        env.process(customer_day(world, cid, profiles[world.draws.choice(which)]))
    env.run(until=DAY_S)
    world.log.close()
    wall = time.perf_counter() - began
    events = world.log.rows
    return {
        "customers": customers,
        "events": events,
        "wall_s": round(wall, 3),
        "events_per_s": round(events / wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--scenario", default="omnichannel")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="Parquet file to write the events to")
    args = parser.parse_args()
    print(json.dumps(simulate(args.scenario, args.customers, args.seed, args.out)))


if __name__ == "__main__":
    main()
