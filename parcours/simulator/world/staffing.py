"""Rosters from the forecast: agents (and store staff) per hour, and the desks that follow them.

For each open hour of the run, the planner takes the ordinary forecast for that weekday and hour,
scales it to the customers the desk serves and asks Erlang C for the fewest agents that answer the
target share in time (80% in 20 s: Gans, Koole & Mandelbaum 2003), counting callers who hang up
(Erlang A: Garnett, Mandelbaum & Reiman 2002; Erlang C alone overstaffs a centre whose callers have a
patience of a minute or two, and the realised service level overshoots the target). The centre serves the
retailer's whole customer file (``serves_customers``); a run simulates a sample of it, and the calls
of everyone outside the sample are drawn as anonymous background load that occupies agents but writes
no event. That is what keeps a sample's service level independent of its size. The desks themselves
(queue, roster, background) are ``Agents`` (agents.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.opening import Opening
from parcours.simulator.world import forecast_cache
from parcours.simulator.world.agents import Agents, Background
from parcours.simulator.world.erlang import agents_needed, agents_needed_a
from parcours.simulator.world.forecast import Forecast, day_type, expected, forecast
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


def cached_roster(
    load: np.ndarray,
    open_hours: np.ndarray,
    aht_s: float,
    target: float,
    within_s: float,
    patience_s: float | None = None,
) -> np.ndarray:
    """``roster``, kept on disk with the forecasts (forecast_cache; at a million customers a desk's
    Erlang A rosters cost a few tenths of a second, once per process)."""
    numbers = np.array([aht_s, target, within_s, np.nan if patience_s is None else patience_s])
    key = forecast_cache.key_of(b"roster", load.tobytes(), open_hours.tobytes(), numbers.tobytes())
    kept = forecast_cache.load(key, ("agents",), load.shape, np.int64)
    if kept is not None:
        return kept["agents"]
    agents = roster(load, open_hours, aht_s, target, within_s, patience_s)
    forecast_cache.store(key, {"agents": agents})
    return agents


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


def background_calls(
    starts_s: np.ndarray, per_hour: np.ndarray, aht_s: float, patience_s: float, rng: np.random.Generator
) -> Background:
    """Calls from customers outside the sample: Poisson by the hour, same talk time and patience."""
    counts = rng.poisson(per_hour)
    arrivals = np.repeat(starts_s, counts) + 3600.0 * rng.random(int(counts.sum()))
    arrivals.sort()
    talk = rng.exponential(aht_s, len(arrivals))
    patience = rng.exponential(patience_s, len(arrivals))
    return arrivals.tolist(), talk.tolist(), patience.tolist()


@dataclass(frozen=True)
class Staffing:
    """What the workforce planner decides once per run, before any shard: the forecasts and the call
    centre's rosters (agents per hour of the run), the same for every shard; a store's roster is made
    once per store size, in the shard, when its first customer asks for help."""

    plan_for: Forecast  # the ordinary week: what rosters and shelves are planned for
    comes: Forecast  # what the scenario's own days bring: the load of customers outside the sample
    serves: int  # customers the call centre serves: its file, or the run's customers if more
    phone: np.ndarray  # agents per hour of the run (days x 24)
    chat: np.ndarray
    stores: dict[int, np.ndarray] = field(default_factory=dict, compare=False)  # by customers served

    def store(self, model: Model, customers: int) -> np.ndarray:
        if customers not in self.stores:
            cfg, opening = model.scenario.stores, model.opening[CHANNEL_CODE[Channel.STORE]]
            self.stores[customers] = roster(
                hourly_load(model, opening, self.plan_for, "assist", customers),
                open_hours(opening, model.days),
                cfg.mean_assist_s,
                ASSIST_TARGET,
                cfg.assist_target_within_s,
            )
        return self.stores[customers]


def plan_staffing(model: Model) -> Staffing:
    """The run's staffing: forecasts, then Erlang A rosters for the phone and chat desks."""
    sc = model.scenario
    cc = sc.call_centre
    plan_for = forecast(sc)
    serves = max(cc.serves_customers, sc.population.customers)
    patience = float(np.dot(model.shares, model.tables["patience_s"]))
    rosters = {}
    for kind, aht in (("phone", cc.mean_talk_s), ("chat", cc.mean_chat_s)):
        opening = model.opening[CHANNEL_CODE[Channel.PHONE if kind == "phone" else Channel.CHAT]]
        rosters[kind] = cached_roster(
            hourly_load(model, opening, plan_for, kind, serves),
            open_hours(opening, model.days),
            aht,
            cc.target_answered,
            cc.target_within_s,
            patience,
        )
    return Staffing(plan_for, expected(sc), serves, rosters["phone"], rosters["chat"])


def staffed_desk(
    model: Model, kind: str, staffing: Staffing, sample: int, rng: np.random.Generator
) -> Agents:
    """A call or chat desk with its roster, and the background load of the customers not simulated."""
    cc = model.scenario.call_centre
    opening = model.opening[CHANNEL_CODE[Channel.PHONE if kind == "phone" else Channel.CHAT]]
    agents = staffing.phone if kind == "phone" else staffing.chat
    starts = opening.hour_s[: model.days, :24].ravel()
    background = None
    if staffing.serves > sample:
        aht = cc.mean_talk_s if kind == "phone" else cc.mean_chat_s
        patience = float(np.dot(model.shares, model.tables["patience_s"]))
        outside = hourly_load(model, opening, staffing.comes, kind, staffing.serves - sample).ravel()
        background = background_calls(starts, outside, aht, patience, rng)
    return Agents(max(1, int(agents.max())), starts.tolist(), agents.ravel().tolist(), background)


def store_desk(model: Model, staffing: Staffing, customers: int) -> Agents:
    """A store's floor staff, rostered by the hour for the help its own customers will ask for; made
    when its first customer asks, who is served before the roster first applies."""
    agents = staffing.store(model, customers)
    starts = model.opening[CHANNEL_CODE[Channel.STORE]].hour_s[: model.days, :24].ravel().tolist()
    return Agents(max(1, int(agents.max())), starts, agents.ravel().tolist(), started=False)
