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
from parcours.simulator.channels import CAN_BUY, N_CHANNELS
from parcours.simulator.opening import CALL_SHAPE, STORE_SHAPE, Opening, open_some_day, opening_of
from parcours.simulator.rng import cumulative
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel

SERVICE_CHANNELS = (Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.SOCIAL)
SERVICE_FLOOR = 0.01
DAY_S = 86_400


def _hour_starts(scenario: Scenario) -> np.ndarray:
    """UTC epoch seconds of each local hour's start, shape (days + 1, 24); DST days come out right."""
    zone = scenario.calendar.zone
    first = scenario.calendar.start
    rows = []
    for d in range(scenario.calendar.days + 1):
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

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.personas]

    @property
    def days(self) -> int:
        return self.scenario.calendar.days

    @property
    def t0(self) -> float:
        return float(self.hour_starts[0, 0])

    @property
    def horizon_s(self) -> float:
        return float(self.hour_starts[-1, 0] - self.t0)


def _persona_numbers(personas: tuple[Persona, ...]) -> dict[str, np.ndarray]:
    def column(get: Any) -> np.ndarray:
        return np.array([float(get(p)) for p in personas])

    return {
        "journeys_weekday": column(lambda p: p.activity.journeys_per_day_weekday),
        "journeys_weekend": column(lambda p: p.activity.journeys_per_day_weekend),
        "sessions_per_journey": column(lambda p: p.activity.sessions_per_journey),
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
        "patience_s": column(lambda p: p.patience.mean_wait_s),
        "callback_rate": column(lambda p: p.patience.callback_rate),
        "contacts_per_day": column(lambda p: p.patience.service_contacts_per_day),
        "multitasking": column(lambda p: p.multitasking),
        "switch_friction": column(lambda p: p.purchase.switch_friction),
        "click_collect_rate": column(lambda p: p.purchase.click_collect_rate),
        "stockout_order_rate": column(lambda p: p.purchase.stockout_order_rate),
        "stockout_online_rate": column(lambda p: p.purchase.stockout_online_rate),
    }


def _response_tables(personas: tuple[Persona, ...]) -> dict[str, np.ndarray]:
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
    open_service = service_mask & ~closed[np.arange(len(mix)) % 24]
    service = np.where(service_mask, mix, 0.0) + np.where(open_service, SERVICE_FLOOR, 0.0)
    return {"channel_cum": cumulative(mix), "buy_cum": cumulative(buy), "service_cum": cumulative(service)}


def _hour_tables(personas: tuple[Persona, ...]) -> np.ndarray:
    rows = []
    for persona in personas:
        rows.append(persona.activity.hourly_weekday)
        rows.append(persona.activity.hourly_weekend)
    return cumulative(np.array(rows, dtype=np.float64))


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
    tables |= _response_tables(personas)
    tables["hour_cum"] = _hour_tables(personas)
    tables["persona_cum"] = cumulative(shares[None, :])
    opening = {
        CHANNEL_CODE[Channel.STORE]: opening_of(scenario, scenario.stores, hour_starts, STORE_SHAPE),
        CHANNEL_CODE[Channel.PHONE]: opening_of(scenario, scenario.call_centre, hour_starts, CALL_SHAPE),
        CHANNEL_CODE[Channel.CHAT]: opening_of(scenario, scenario.call_centre, hour_starts, CALL_SHAPE),
    }
    return Model(scenario, personas, shares, hour_starts, weekend, tables, opening)
