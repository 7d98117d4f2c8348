"""Rosters from the forecast: agents (and store staff) per hour, and the desks that follow them.

For each open hour of the run, the planner takes the ordinary forecast for that weekday and hour,
scales it to the customers the desk serves and asks Erlang C for the fewest agents that answer the
target share in time (80% in 20 s: Gans, Koole & Mandelbaum 2003), counting callers who hang up
(Erlang A: Garnett, Mandelbaum & Reiman 2002; Erlang C alone overstaffs a centre whose callers have a
patience of a minute or two, and the realised service level overshoots the target). The centre serves the
retailer's whole customer file (``serves_customers``); a run simulates a sample of it, and the calls
of everyone outside the sample are drawn as anonymous background load that occupies agents but writes
no event. That is what keeps a sample's service level independent of its size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.opening import Opening
from parcours.simulator.world.erlang import agents_needed, agents_needed_a
from parcours.simulator.world.forecast import Forecast, day_type
from parcours.vocabulary import Channel

ASSIST_TARGET = 0.8  # help requests answered within the store's target wait (assumption: as calls)


def hourly_load(model: Model, opening: Opening, fc: Forecast, kind: str, customers: float) -> np.ndarray:
    """Expected arrivals per hour of the run (days x 24), zero while closed."""
    first = model.scenario.calendar.start
    out = np.zeros((model.days, 24))
    rates = fc.per_customer[kind]
    for d in range(model.days):
        t = day_type((first + dt.timedelta(days=d)).weekday())
        hour_s = opening.hour_s[d]
        open_s = np.clip(
            np.minimum(hour_s[1:], opening.closes_s[d]) - np.maximum(hour_s[:24], opening.opens_s[d]),
            0.0,
            None,
        )
        open_s = np.nan_to_num(open_s)
        out[d] = rates[t] * customers * (open_s / 3600.0)
    return out


def roster(
    load: np.ndarray,
    open_hours: np.ndarray,
    aht_s: float,
    target: float,
    within_s: float,
    patience_s: float | None = None,
) -> np.ndarray:
    """Agents per hour of the run: Erlang A on the hour's forecast (Erlang C without a patience);
    at least one while open. Loads are rounded to three significant digits so rosters share work."""
    agents = np.zeros(load.shape, dtype=np.int64)
    for idx in zip(*np.nonzero(open_hours), strict=True):
        calls = float(f"{float(load[idx]):.3g}")
        if patience_s is None:
            n = agents_needed(calls, aht_s, target=target, within_s=within_s)
        else:
            n = agents_needed_a(calls, aht_s, patience_s, target=target, within_s=within_s)
        agents[idx] = max(1, n)
    return agents


def open_hours(opening: Opening, days: int) -> np.ndarray:
    """Hours of the run (days x 24) with any open minute."""
    hour_s = opening.hour_s[:days]
    with np.errstate(invalid="ignore"):
        return (hour_s[:, 1:] > opening.opens_s[:days, None]) & (
            hour_s[:, :24] < opening.closes_s[:days, None]
        )


def follow_roster(
    env: simpy.Environment, desk: simpy.PriorityResource, starts_s: np.ndarray, agents: np.ndarray
) -> Generator[simpy.Event, Any, None]:
    """Agents come and go by the hour: off-shift slots are held by the roster; an agent going off
    shift finishes the current call first (the roster's request waits like anyone's, ahead of them)."""
    held: list[simpy.resources.resource.PriorityRequest] = []
    for at, n in zip(starts_s.tolist(), agents.tolist(), strict=True):
        if at > env.now:
            yield env.timeout(at - env.now)
        off = desk.capacity - int(n)
        while len(held) < off:
            held.append(desk.request(priority=-1))
        while len(held) > off:
            slot = held.pop()
            if slot.triggered:
                desk.release(slot)
            else:
                slot.cancel()


def background_calls(
    env: simpy.Environment,
    desk: simpy.PriorityResource,
    starts_s: np.ndarray,
    per_hour: np.ndarray,
    aht_s: float,
    patience_s: float,
    rng: np.random.Generator,
) -> Generator[simpy.Event, Any, None]:
    """Calls from customers outside the sample: Poisson by the hour, same talk time and patience."""
    counts = rng.poisson(per_hour)
    arrivals = np.repeat(starts_s, counts) + 3600.0 * rng.random(int(counts.sum()))
    arrivals.sort()
    talk = rng.exponential(aht_s, len(arrivals))
    patience = rng.exponential(patience_s, len(arrivals))
    for at, t, p in zip(arrivals.tolist(), talk.tolist(), patience.tolist(), strict=True):
        if at > env.now:
            yield env.timeout(at - env.now)
        env.process(_anonymous_caller(env, desk, t, p))


def _anonymous_caller(
    env: simpy.Environment, desk: simpy.PriorityResource, talk_s: float, patience_s: float
) -> Generator[simpy.Event, Any, None]:
    with desk.request() as request:
        got = yield request | env.timeout(patience_s)
        if request in got:
            yield env.timeout(talk_s)


def staffed_desk(
    env: simpy.Environment,
    model: Model,
    kind: str,
    plan_for: Forecast,
    comes: Forecast,
    sample: int,
    serves: int,
    rng: np.random.Generator,
) -> simpy.PriorityResource:
    """A call or chat desk with its roster, and the background load of the customers not simulated."""
    cc = model.scenario.call_centre
    code = CHANNEL_CODE[Channel.PHONE if kind == "phone" else Channel.CHAT]
    opening = model.opening[code]
    aht = cc.mean_talk_s if kind == "phone" else cc.mean_chat_s
    served = max(sample, serves)
    patience = float(np.dot(model.shares, model.tables["patience_s"]))
    agents = roster(
        hourly_load(model, opening, plan_for, kind, served),
        open_hours(opening, model.days),
        aht,
        cc.target_answered,
        cc.target_within_s,
        patience,
    )
    desk = simpy.PriorityResource(env, max(1, int(agents.max())))
    starts = opening.hour_s[: model.days, :24].ravel()
    env.process(follow_roster(env, desk, starts, agents.ravel()))
    if served > sample:
        outside = hourly_load(model, opening, comes, kind, served - sample).ravel()
        env.process(background_calls(env, desk, starts, outside, aht, patience, rng))
    return desk


def store_desk(
    env: simpy.Environment, model: Model, plan_for: Forecast, customers: int
) -> simpy.PriorityResource:
    """A store's floor staff, rostered by the hour for the help its own customers will ask for."""
    stores = model.scenario.stores
    opening = model.opening[CHANNEL_CODE[Channel.STORE]]
    agents = roster(
        hourly_load(model, opening, plan_for, "assist", customers),
        open_hours(opening, model.days),
        stores.mean_assist_s,
        ASSIST_TARGET,
        stores.assist_target_within_s,
    )
    desk = simpy.PriorityResource(env, max(1, int(agents.max())))
    env.process(follow_roster(env, desk, opening.hour_s[: model.days, :24].ravel(), agents.ravel()))
    return desk
