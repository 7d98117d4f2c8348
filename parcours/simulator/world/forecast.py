"""The workforce planner's forecast: contacts per customer by weekday and hour, from the model itself.

A planner staffs from the ordinary week's expected load, not from the day that will actually come.
The forecast runs the model's own planning (``plan``) for a fixed reference sample of customers over
one ordinary week (no demand multipliers, only the campaigns that recur every week), and counts the
sessions that need a person: calls, chats, store visits where the customer asks for help. It follows
any change to behaviour, since it is the behaviour; a peak day (Black Friday) then meets a roster
sized for an ordinary one. A forecast is kept in the process and on disk (``forecast_cache``) under a
hash of everything it depends on, so a run of a week forecast before reads it instead (half a second).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.personas import BUILTIN_DIR, builtin_names
from parcours.scenarios import Scenario
from parcours.scenarios.spec import WEEKDAYS, Demand
from parcours.simulator.model.inputs import LOOKBACK_DAYS, Model, _hour_starts, build_model
from parcours.simulator.model.population import draw_customers
from parcours.simulator.model.rng import Streams
from parcours.simulator.plan.day import plan
from parcours.simulator.plan.sessions import local_hour
from parcours.simulator.world import forecast_cache
from parcours.specfile import MIN_DATE
from parcours.vocabulary import Channel

AT_A_DESK = [CHANNEL_CODE[c] for c in (Channel.STORE, Channel.PHONE, Channel.CHAT)]  # no collection

# The reference sample: as large as the default file, so that an hour's forecast of the default
# scenario's calls rests on 80-150 calls (its sampling noise 8-11%, under the day's own Poisson noise).
REFERENCE_CUSTOMERS = 200_000
# The abandonment a planner expects of a centre staffed to its target: 5-8% of inbound calls is the
# commonly cited industry standard (Uniphore, glossary Abandonment rate; realism R11); its middle.
PLANNED_ABANDONED = 0.065
REFERENCE_SEED = 20_021_003  # a fixed sample: the forecast does not move with the run's own seed
#: Capabilities that act only during the day (the engine's stock checks, empty shelves, returns), never
#: on the plan the forecast counts: set to one value in the ordinary week, so that scenarios differing
#: only in them share one forecast (explain's omnichannel split: 58 combinations, 8 forecasts).
NOT_PLANNED: dict[str, Any] = {
    "stock_visible": "none",
    "order_from_store": False,
    "hold_other_store": False,
    "returns_anywhere": False,
}
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
    if monday < MIN_DATE:  # a run from 1970-01-01 (a Thursday): the next week has the same weekdays
        monday += dt.timedelta(days=7)
    calendar = scenario.calendar.model_copy(update={"start": monday, "days": 7, "holidays": []})
    weekly = [c for c in scenario.campaigns if c.weekdays is not None]
    population = scenario.population.model_copy(
        update={"customers": REFERENCE_CUSTOMERS, "seed": REFERENCE_SEED}
    )
    # the capabilities the forecast does not read set alike (tested: it is the same whatever they are)
    capabilities = scenario.capabilities.model_copy(update=NOT_PLANNED)
    update = {
        "demand": Demand(),
        "campaigns": weekly,
        "calendar": calendar,
        "population": population,
        "capabilities": capabilities,
    }
    # named alike: the forecast does not read the name, and scenarios that differ in it share one
    return scenario.model_copy(update=update | {"name": "ordinary", "description": "the ordinary week"})


def forecast(scenario: Scenario) -> Forecast:
    """The ordinary week's forecast for this scenario (kept in the process and on disk)."""
    return _cached(ordinary(scenario))[1]


def expected(scenario: Scenario) -> Forecast:
    """What the scenario's own days will bring on average (its demand and campaigns): the load that
    customers outside the simulated sample put on the call centre."""
    return _cached(_expected_week(scenario))[1]


def _expected_week(scenario: Scenario) -> Scenario:
    week = ordinary(scenario).model_copy(update={"demand": scenario.demand})
    if week.demand == Demand() and all(c.weekdays is not None for c in scenario.campaigns):
        return ordinary(scenario)
    # one-off campaigns are kept on their weekday of the reference week
    moved = [
        c.model_copy(update={"day": None, "weekdays": [_weekday_of(scenario, c.day or 1)]})
        if c.weekdays is None
        else c
        for c in scenario.campaigns
    ]
    return week.model_copy(update={"campaigns": moved})


def _weekday_of(scenario: Scenario, day: int) -> str:
    return WEEKDAYS[(scenario.calendar.start + dt.timedelta(days=day - 1)).weekday()]


def staffing_forecasts(scenario: Scenario) -> dict[str, Forecast]:
    """The forecasts a run of this scenario plans its staffing from, by key: what ``remember`` takes,
    so that a process that runs the scenario many times (``explain``) gets them from another."""
    return dict(_cached(w) for w in (ordinary(scenario), _expected_week(scenario)))


def remember(forecasts: dict[str, Forecast]) -> None:
    """Keep forecasts made elsewhere (by ``staffing_forecasts``) in this process."""
    for key, fc in forecasts.items():
        _keep(key, fc)


def forecast_key(week: Scenario, text: str) -> str:
    """A hash of everything the forecast of ``week`` (``text``: its JSON) depends on; forecast_cache
    adds the code's."""
    window = _hour_starts(week, LOOKBACK_DAYS)  # the time-zone database's say on the week's hours
    return forecast_cache.key_of(text.encode(), _persona_files(week), window.tobytes())


def _persona_files(scenario: Scenario) -> bytes:
    """The personas' names and the bytes of their files (a persona is its file, read by its code)."""
    mix, builtin = scenario.population.personas, builtin_names()
    out = []
    for name in builtin if mix is None else list(mix):
        path = BUILTIN_DIR / f"{name}.toml" if name in builtin else Path(name)
        try:
            content = path.read_bytes()
        except OSError:
            content = b""  # the run itself will say the persona cannot be read
        out.append(len(name).to_bytes(8, "little") + name.encode() + content)
    return b"".join(len(p).to_bytes(8, "little") + p for p in out)


_MEMO: dict[str, Forecast] = {}  # key -> forecast, made or read in this process
MEMO_SIZE = 32


def forget() -> None:
    """Drop the forecasts kept in this process (those on disk stay)."""
    _MEMO.clear()


def _keep(key: str, fc: Forecast) -> None:
    _MEMO.pop(key, None)
    _MEMO[key] = fc
    while len(_MEMO) > MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]


def _cached(week: Scenario) -> tuple[str, Forecast]:
    """The week's forecast and its key: from this process, else the disk, else computed (and kept)."""
    text = week.model_dump_json()
    key = forecast_key(week, text)
    fc = _MEMO.get(key)
    if fc is None:
        arrays = forecast_cache.load(key, KINDS, (DAY_TYPES, 24))
        if arrays is None:
            fc = _forecast(Scenario.model_validate_json(text))
            forecast_cache.store(key, fc.per_customer)
        else:
            fc = Forecast(arrays)
    _keep(key, fc)
    return key, fc


def _forecast(scenario: Scenario) -> Forecast:
    """The forecast computed: the reference sample's week planned, its sessions counted."""
    model = build_model(scenario, "forecast")
    streams = Streams(REFERENCE_SEED)
    file = draw_customers(model, streams, np.arange(REFERENCE_CUSTOMERS, dtype=np.int64))
    journeys, sessions, _, customers = plan(model, streams, file)  # customers: those who act
    persona = customers.persona[journeys.customer[sessions.journey]]
    counts = _count(
        model, sessions.start_s, sessions.channel, sessions.buy, calls=_with_retries(model, persona)
    )
    # click & collect orders are prepared from the store's shelves: the store stocks for them too
    collect = model.tables["click_collect_rate"][persona] * ~np.isin(sessions.channel, AT_A_DESK)
    if not model.scenario.capabilities.click_collect:
        collect[:] = 0.0
    counts["store_buys"] += _count(model, sessions.start_s, sessions.channel, sessions.buy, collect)[
        "collect"
    ]
    return Forecast(counts)


def _with_retries(model: Model, persona: np.ndarray) -> np.ndarray:
    """Contacts a first call or chat brings, itself included: a caller who hangs up may call back (the
    persona's ``callback_rate``), and may hang up again. The planner expects PLANNED_ABANDONED of the
    calls to hang up, so a first call brings 1 / (1 - PLANNED_ABANDONED x callback_rate) calls."""
    again = PLANNED_ABANDONED * model.tables["callback_rate"][persona]
    return 1.0 / (1.0 - again)


def _count(
    model: Model,
    start_s: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
    collect: np.ndarray | None = None,
    calls: np.ndarray | float = 1.0,
) -> dict[str, np.ndarray]:
    day, hour = local_hour(model, start_s)
    inside = day < 7
    first = model.scenario.calendar.start
    weekday = np.array([(first + dt.timedelta(days=d)).weekday() for d in range(8)])
    dtype = np.array([day_type(w) for w in weekday])[np.minimum(day, 7)]
    days_of_type = np.bincount([day_type(w) for w in weekday[:7]], minlength=DAY_TYPES)
    store = CHANNEL_CODE[Channel.STORE]
    kinds = {
        "phone": (channel == CHANNEL_CODE[Channel.PHONE]) * calls,
        "chat": (channel == CHANNEL_CODE[Channel.CHAT]) * calls,
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
