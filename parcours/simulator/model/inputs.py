"""A scenario resolved into what the simulation needs: personas in order, NumPy tables, the calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parcours.errors import SpecError
from parcours.output.schema import CHANNEL_CODE
from parcours.personas import HOUR_PART, Persona, get_persona
from parcours.scenarios import Scenario
from parcours.simulator.model.channels import CAN_BUY, N_CHANNELS
from parcours.simulator.model.opening import CALL_SHAPE, STORE_SHAPE, Opening, open_some_day, opening_of
from parcours.simulator.model.rng import cumulative
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel

# A service contact by email would show as an opened message the retailer never sent: not modelled.
SERVICE_CHANNELS = (Channel.PHONE, Channel.CHAT, Channel.SOCIAL)
SERVICE_FLOOR = 0.01
DAY_S = 86_400
# Research started up to this many days before the run can end in a purchase inside it: intents are
# drawn over the run's days and the week before, and sessions before the run's start are not written.
LOOKBACK_DAYS = 7
BUY_ON = ("store", "own_site", "marketplace", "phone")
OWN_SITE = (Channel.MOBILE_APP, Channel.MOBILE_WEB, Channel.DESKTOP_WEB, Channel.TABLET)
# Reading the retailer's email or a push/SMS is a response to a send (messages.py), never an organic
# session: those channels are taken out of the persona's research mix.
NOT_ORGANIC = (Channel.EMAIL, Channel.PUSH, Channel.SMS)


def _hour_starts(scenario: Scenario, before: int = 0) -> np.ndarray:
    """UTC epoch seconds of each local hour's start, shape (before + days + 1, 24), from ``before`` days
    ahead of the start; DST days come out right."""
    zone = scenario.calendar.zone
    first = scenario.calendar.start
    rows = []
    for d in range(-before, scenario.calendar.days + 1):
        day = first + dt.timedelta(days=d)
        rows.append(
            [dt.datetime(day.year, day.month, day.day, h, tzinfo=zone).timestamp() for h in range(24)]
        )
    return np.array(rows, dtype=np.float64)


@dataclass(frozen=True)
class Model:
    """Everything the simulation reads, derived once from the scenario and its personas."""

    scenario: Scenario
    personas: tuple[Persona, ...]
    shares: np.ndarray
    hour_starts: np.ndarray  # epoch s, (days + 1, 24)
    weekend: np.ndarray  # bool per day
    tables: dict[str, np.ndarray] = field(repr=False)
    opening: dict[int, Opening] = field(repr=False, default_factory=dict)  # channel code: opening periods
    # The intent window: LOOKBACK_DAYS before the run and its days; epoch s (window days + 1, 24).
    window_starts: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((1, 24)))
    window_weekend: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.personas]

    @property
    def days(self) -> int:
        return self.scenario.calendar.days

    @property
    def has_stores(self) -> bool:
        return Channel.STORE not in self.scenario.without_channels

    @property
    def t0(self) -> float:
        return float(self.hour_starts[0, 0])

    @property
    def horizon_s(self) -> float:
        return float(self.hour_starts[-1, 0] - self.t0)


def _buy_on(scenario: Scenario, personas: tuple[Persona, ...]) -> np.ndarray:
    """Where each persona buys (rows persona, columns BUY_ON), without the channels the retailer lacks."""
    buy_on = np.array([[getattr(p.purchase.buy_on, k) for k in BUY_ON] for p in personas], dtype=np.float64)
    absent = {str(c) for c in scenario.without_channels}
    for k, name in enumerate(BUY_ON):
        if name in absent or (name == "own_site" and all(str(c) in absent for c in OWN_SITE)):
            buy_on[:, k] = 0.0
    if (buy_on.sum(axis=1) == 0).any():
        buy_on[buy_on.sum(axis=1) == 0, BUY_ON.index("own_site")] = 1.0
    return cumulative(buy_on)


def _persona_numbers(personas: tuple[Persona, ...]) -> dict[str, np.ndarray]:
    def column(get: Any) -> np.ndarray:
        return np.array([float(get(p)) for p in personas])

    return {
        "intents_per_day": column(
            lambda p: p.activity.purchases_per_year / max(p.purchase.propensity, 1e-3) / 365.0
        ),
        "renewal_shape": column(lambda p: p.activity.renewal_shape),
        "weekend_factor": column(lambda p: p.activity.weekend_factor),
        "research_sessions": column(lambda p: p.activity.research_sessions),
        "research_days": column(lambda p: p.activity.research_days),
        "gap_s": column(lambda p: p.activity.minutes_between_sessions * 60.0),
        "activity_spread": column(lambda p: p.activity.activity_spread),
        "app_installed": column(lambda p: p.reach.app_installed),
        "has_account": column(lambda p: p.reach.has_account),
        "login_rate": column(lambda p: p.reach.login_rate),
        "propensity": column(lambda p: p.purchase.propensity),
        "basket_eur": column(lambda p: p.purchase.mean_basket_eur),
        "basket_sigma": column(lambda p: p.purchase.basket_sigma),
        "mean_items": column(lambda p: p.purchase.mean_items),
        "return_rate": column(lambda p: p.purchase.return_rate),
        "cart_rate": column(lambda p: p.purchase.cart_rate),
        "lost_cart_friction": column(lambda p: p.purchase.lost_cart_friction),
        "recognised_uplift": column(lambda p: p.purchase.recognised_uplift),
        "stock_check_rate": column(lambda p: p.purchase.stock_check_rate),
        "pickup_cross_sell": column(lambda p: p.purchase.pickup_cross_sell),
        "stockout_substitute_rate": column(lambda p: p.purchase.stockout_substitute_rate),
        "return_in_store_rate": column(lambda p: p.purchase.return_in_store_rate),
        "patience_s": column(lambda p: p.patience.mean_wait_s),
        "callback_rate": column(lambda p: p.patience.callback_rate),
        "contacts_per_day": column(lambda p: p.patience.service_contacts_per_day),
        "multitasking": column(lambda p: p.multitasking),
        "click_collect_rate": column(lambda p: p.purchase.click_collect_rate),
        "stockout_order_rate": column(lambda p: p.purchase.stockout_order_rate),
        "stockout_online_rate": column(lambda p: p.purchase.stockout_online_rate),
    }


def _response_tables(personas: tuple[Persona, ...], absent: list[Channel]) -> dict[str, np.ndarray]:
    """How each persona answers each outbound channel: rows persona * len(OUTBOUND) + channel."""
    rows = len(personas) * len(OUTBOUND_CHANNELS)
    open_rate, click_rate, delay_s = np.zeros(rows), np.zeros(rows), np.full(rows, 3600.0)
    respond = np.zeros((rows, N_CHANNELS))
    for p, persona in enumerate(personas):
        for k, channel in enumerate(OUTBOUND_CHANNELS):
            r = persona.responses.get(channel)
            row = p * len(OUTBOUND_CHANNELS) + k
            if r is None:
                respond[row, CHANNEL_CODE[Channel.MOBILE_WEB]] = 1.0
                continue
            open_rate[row], click_rate[row], delay_s[row] = (
                r.open_rate,
                r.click_rate,
                r.mean_delay_minutes * 60,
            )
            for ch, share in r.respond_on.items():
                respond[row, CHANNEL_CODE[ch]] = share
    for channel in absent:
        respond[:, CHANNEL_CODE[channel]] = 0.0
    respond[respond.sum(axis=1) == 0, CHANNEL_CODE[Channel.MOBILE_WEB]] = 1.0
    return {
        "open_rate": open_rate,
        "click_rate": click_rate,
        "response_delay_s": delay_s,
        "respond_cum": cumulative(respond),
    }


def _channel_weights(persona: Persona, weekend: bool, hour: int) -> np.ndarray:
    shares = persona.channel_mix(weekend).shares(HOUR_PART[hour])
    row = np.zeros(N_CHANNELS)
    for channel, share in shares.items():
        row[CHANNEL_CODE[channel]] = share
    return row


def _channel_tables(scenario: Scenario, personas: tuple[Persona, ...]) -> dict[str, np.ndarray]:
    """Cumulative channel tables, one row per (persona, weekend, hour), channels closed at that hour on
    every day of the week removed (a closed weekday or a late opening is settled in ``plan``)."""
    closed = np.zeros((24, N_CHANNELS), dtype=bool)
    for channel, hours in (
        (Channel.STORE, scenario.stores),
        (Channel.PHONE, scenario.call_centre),
        (Channel.CHAT, scenario.call_centre),
    ):
        closed[:, CHANNEL_CODE[channel]] = ~open_some_day(hours)
    any_mix = np.zeros((len(personas) * 2 * 24, N_CHANNELS))
    for p, persona in enumerate(personas):
        for weekend in (0, 1):
            for hour in range(24):
                any_mix[(p * 2 + weekend) * 24 + hour] = _channel_weights(persona, bool(weekend), hour)
    for channel in (*NOT_ORGANIC, *scenario.without_channels):
        any_mix[:, CHANNEL_CODE[channel]] = 0.0
    mix = np.where(closed[np.arange(len(any_mix)) % 24], 0.0, any_mix)
    # Where every channel the persona likes at that hour is closed, the customer goes to the website.
    mix[mix.sum(axis=1) == 0, CHANNEL_CODE[Channel.MOBILE_WEB]] = 1.0
    buy = np.where(CAN_BUY, mix, 0.0)
    buy[buy.sum(axis=1) == 0, CHANNEL_CODE[Channel.MOBILE_WEB]] = 1.0
    service_mask = np.zeros(N_CHANNELS, dtype=bool)
    for channel in SERVICE_CHANNELS:
        service_mask[CHANNEL_CODE[channel]] = True
    # A service contact goes where the persona already goes, with a small floor on every open service
    # channel so that a persona who never chats still has somewhere to turn at any open hour.
    for channel in scenario.without_channels:
        service_mask[CHANNEL_CODE[channel]] = False
    open_service = service_mask & ~closed[np.arange(len(mix)) % 24]
    service = np.where(service_mask, mix, 0.0) + np.where(open_service, SERVICE_FLOOR, 0.0)
    own = np.zeros_like(mix)
    for channel in OWN_SITE:
        own[:, CHANNEL_CODE[channel]] = any_mix[:, CHANNEL_CODE[channel]]
    own[own.sum(axis=1) == 0, CHANNEL_CODE[Channel.MOBILE_WEB]] = 1.0
    return {
        "channel_cum": cumulative(mix),
        "buy_cum": cumulative(buy),
        "service_cum": cumulative(service),
        "own_cum": cumulative(own),
    }


def _hour_tables(personas: tuple[Persona, ...], store_open: np.ndarray) -> dict[str, np.ndarray]:
    """The persona's hours (rows persona * 2 + weekend), and the same within the store's open hours."""
    rows = []
    for persona in personas:
        rows.append(persona.activity.hourly_weekday)
        rows.append(persona.activity.hourly_weekend)
    hours = np.array(rows, dtype=np.float64)
    in_store = hours * store_open[None, :]
    in_store[in_store.sum(axis=1) == 0] = store_open.astype(np.float64) + (store_open.sum() == 0)
    return {"hour_cum": cumulative(hours), "store_hour_cum": cumulative(in_store)}


def resolve_personas(scenario: Scenario, source: str) -> tuple[tuple[Persona, ...], np.ndarray]:
    mix = scenario.population.personas
    if mix is None:
        from parcours.personas import builtin_names

        chosen = tuple(get_persona(name) for name in builtin_names())
        shares = np.array([p.population_share for p in chosen])
        if abs(shares.sum() - 1.0) > 1e-3:
            raise SpecError(
                source, "population.personas", f"built-in population shares sum to {shares.sum():.4f}"
            )
        return chosen, shares
    chosen_list = []
    for name in mix:
        try:
            chosen_list.append(get_persona(name))
        except SpecError as exc:
            raise SpecError(source, f"population.personas.{name}", exc.problem) from None
    return tuple(chosen_list), np.array(list(mix.values()), dtype=np.float64)


def _check_days(scenario: Scenario, source: str) -> None:
    days = {
        "campaigns": [c.day or 1 for c in scenario.campaigns],
        "outages": [o.day for o in scenario.outages],
    }
    for kind, listed in days.items():
        for i, day in enumerate(listed):
            if day > scenario.calendar.days:
                raise SpecError(source, f"{kind}[{i}].day", f"day {day} is after the run's last day")
    calendar = scenario.calendar
    for i, campaign in enumerate(scenario.campaigns):
        if campaign.channel is not Channel.SMS or campaign.weekdays is not None:
            continue
        date = calendar.start + dt.timedelta(days=(campaign.day or 1) - 1)
        if date.weekday() == 6 or date in calendar.holidays:
            raise SpecError(
                source,
                f"campaigns[{i}].day",
                f"a marketing SMS on {date} (a Sunday or public holiday) breaks the code of practice (AF2M)",
            )


def build_model(scenario: Scenario, source: str = "scenario") -> Model:
    _check_days(scenario, source)
    personas, shares = resolve_personas(scenario, source)
    for i, campaign in enumerate(scenario.campaigns):
        for name in campaign.personas or []:
            if name not in [p.name for p in personas]:
                raise SpecError(source, f"campaigns[{i}].personas", f"{name!r} is not in the population")
    hour_starts = _hour_starts(scenario)
    first = scenario.calendar.start
    weekend = np.array([(first + dt.timedelta(days=d)).weekday() >= 5 for d in range(scenario.calendar.days)])
    tables = _persona_numbers(personas) | _channel_tables(scenario, personas)
    tables |= _response_tables(personas, scenario.without_channels)
    tables["buy_on_cum"] = _buy_on(scenario, personas)
    tables |= _hour_tables(personas, open_some_day(scenario.stores))
    tables["persona_cum"] = cumulative(shares[None, :])
    opening = {
        CHANNEL_CODE[Channel.STORE]: opening_of(scenario, scenario.stores, hour_starts, STORE_SHAPE),
        CHANNEL_CODE[Channel.PHONE]: opening_of(scenario, scenario.call_centre, hour_starts, CALL_SHAPE),
        CHANNEL_CODE[Channel.CHAT]: opening_of(scenario, scenario.call_centre, hour_starts, CALL_SHAPE),
    }
    window_starts = _hour_starts(scenario, LOOKBACK_DAYS)
    days = range(-LOOKBACK_DAYS, scenario.calendar.days)
    window_weekend = np.array([(first + dt.timedelta(days=d)).weekday() >= 5 for d in days])
    return Model(
        scenario, personas, shares, hour_starts, weekend, tables, opening, window_starts, window_weekend
    )
