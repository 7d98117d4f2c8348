"""The workforce planner's forecast: contacts per customer by weekday and hour, from the model itself.

A planner staffs from the ordinary week's expected load, not from the day that will actually come.
The forecast runs the model's own planning (``plan``) for a fixed reference sample of customers over
one ordinary week (no demand multipliers, only the campaigns that recur every week), and counts the
sessions that need a person: calls, chats, store visits where the customer asks for help. It follows
any change to behaviour, since it is the behaviour; a peak day (Black Friday) then meets a roster
sized for an ordinary one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.scenarios import Scenario
from parcours.scenarios.spec import WEEKDAYS, Demand
from parcours.simulator.model.inputs import Model, build_model
from parcours.simulator.model.population import draw_customers
from parcours.simulator.model.rng import Streams
from parcours.simulator.plan.day import plan
from parcours.simulator.plan.sessions import local_hour
from parcours.vocabulary import Channel

AT_A_DESK = [CHANNEL_CODE[c] for c in (Channel.STORE, Channel.PHONE, Channel.CHAT)]  # no collection

REFERENCE_CUSTOMERS = 30_000  # about 2,000 calls a weekday at today's demand: hourly noise under 10%
REFERENCE_SEED = 20_021_003  # a fixed sample: the forecast does not move with the run's own seed
DAY_TYPES = 7  # one forecast per weekday: campaigns and Saturdays make days differ
KINDS = ("phone", "chat", "assist", "store_buys")


@dataclass(frozen=True)
class Forecast:
    """Expected sessions per customer in each (day type, local hour), by kind: phone, chat, assist
    (store visits asking for help), store_buys (store visits meant to end in a purchase, and online
    orders to be collected in store, whose units come off the same shelves)."""

    per_customer: dict[str, np.ndarray]  # kind -> (DAY_TYPES, 24)

    def rate(self, kind: str, weekday: int, hour: int) -> float:
        return float(self.per_customer[kind][day_type(weekday), hour])


def day_type(weekday: int) -> int:
    return weekday


def ordinary(scenario: Scenario) -> Scenario:
    """The same retailer on an ordinary week: no peak demand, only the weekly campaign calendar."""
    start = scenario.calendar.start
    monday = start - dt.timedelta(days=start.weekday())
    calendar = scenario.calendar.model_copy(update={"start": monday, "days": 7, "holidays": []})
    weekly = [c for c in scenario.campaigns if c.weekdays is not None]
    population = scenario.population.model_copy(
        update={"customers": REFERENCE_CUSTOMERS, "seed": REFERENCE_SEED}
    )
    return scenario.model_copy(
        update={"demand": Demand(), "campaigns": weekly, "calendar": calendar, "population": population}
    )


def forecast(scenario: Scenario) -> Forecast:
    """The ordinary week's forecast for this scenario (cached per scenario in the process)."""
    return _forecast(ordinary(scenario).model_dump_json())


def expected(scenario: Scenario) -> Forecast:
    """What the scenario's own days will bring on average (its demand and campaigns): the load that
    customers outside the simulated sample put on the call centre."""
    week = ordinary(scenario).model_copy(update={"demand": scenario.demand})
    if week.demand == Demand() and all(c.weekdays is not None for c in scenario.campaigns):
        return forecast(scenario)
    # one-off campaigns are kept on their weekday of the reference week
    moved = [
        c.model_copy(update={"day": None, "weekdays": [_weekday_of(scenario, c.day or 1)]})
        if c.weekdays is None
        else c
        for c in scenario.campaigns
    ]
    return _forecast(week.model_copy(update={"campaigns": moved}).model_dump_json())


def _weekday_of(scenario: Scenario, day: int) -> str:
    return WEEKDAYS[(scenario.calendar.start + dt.timedelta(days=day - 1)).weekday()]


@lru_cache(maxsize=8)
def _forecast(scenario_json: str) -> Forecast:
    scenario = Scenario.model_validate_json(scenario_json)
    model = build_model(scenario, "forecast")
    streams = Streams(REFERENCE_SEED)
    file = draw_customers(model, streams, np.arange(REFERENCE_CUSTOMERS, dtype=np.int64))
    journeys, sessions, _, customers = plan(model, streams, file)  # customers: those who act
    counts = _count(model, sessions.start_s, sessions.channel, sessions.buy)
    # click & collect orders are prepared from the store's shelves: the store stocks for them too
    persona = customers.persona[journeys.customer[sessions.journey]]
    collect = model.tables["click_collect_rate"][persona] * ~np.isin(sessions.channel, AT_A_DESK)
    if not model.scenario.capabilities.click_collect:
        collect[:] = 0.0
    counts["store_buys"] += _count(model, sessions.start_s, sessions.channel, sessions.buy, collect)[
        "collect"
    ]
    return Forecast(counts)


def _count(
    model: Model,
    start_s: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
    collect: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    day, hour = local_hour(model, start_s)
    inside = day < 7
    first = model.scenario.calendar.start
    weekday = np.array([(first + dt.timedelta(days=d)).weekday() for d in range(8)])
    dtype = np.array([day_type(w) for w in weekday])[np.minimum(day, 7)]
    days_of_type = np.bincount([day_type(w) for w in weekday[:7]], minlength=DAY_TYPES)
    store = CHANNEL_CODE[Channel.STORE]
    kinds = {
        "phone": (channel == CHANNEL_CODE[Channel.PHONE]) * 1.0,
        "chat": (channel == CHANNEL_CODE[Channel.CHAT]) * 1.0,
        "assist": (channel == store) * model.scenario.stores.assist_rate,
        "store_buys": ((channel == store) & buy) * 1.0,
    }
    if collect is not None:
        kinds = {"collect": buy * collect}
    out = {}
    for kind, weight in kinds.items():
        counts = np.zeros((DAY_TYPES, 24))
        np.add.at(counts, (dtype[inside], hour[inside]), weight[inside])
        out[kind] = counts / days_of_type[:, None] / REFERENCE_CUSTOMERS
    return out
