"""The personas of the brief show in the output: shares of sessions by channel, hour and persona.

Margins are wide enough for sampling noise on a few thousand customers and narrow enough that a model
which ignored the persona's channel mix or the time of day would fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from parcours.output.reader import Run
from tests.support import sessions, share

SMARTPHONE = ["mobile_app", "mobile_web"]
WORK_HOURS = [9, 10, 11, 14, 15, 16]
COMMUTE_AND_BREAKS = [7, 8, 12, 13, 17, 18]


def chosen_sessions(run: Run) -> dict[str, np.ndarray]:
    """Sessions customers start on a channel of their own choosing: the retailer's campaign messages
    (sent, then perhaps read, on email, SMS or push) follow its calendar, not the persona's day."""
    all_sessions = sessions(run)
    chosen = ~np.isin(all_sessions["channel"], ["email", "sms", "push"])
    return {k: v[chosen] for k, v in all_sessions.items()}


@pytest.fixture(scope="module")
def s(omni_run: Run) -> dict[str, np.ndarray]:
    return chosen_sessions(omni_run)


def _is(values: np.ndarray, *wanted: str) -> np.ndarray:
    return np.isin(values, list(wanted))


def test_office_workers_are_on_desktop_and_marketplaces_during_working_hours(
    s: dict[str, np.ndarray],
) -> None:
    office = s["persona"] == "office_worker"
    at_work = office & np.isin(s["hour"], WORK_HOURS)
    assert share(_is(s["channel"], "desktop_web", "marketplace"), at_work) > 0.55
    commuting = office & np.isin(s["hour"], COMMUTE_AND_BREAKS)
    assert share(_is(s["channel"], *SMARTPHONE), commuting) > 0.45
    assert share(_is(s["channel"], "desktop_web"), commuting) < 0.10


def test_the_young_are_mobile_web_first_with_catalogue_and_store(s: dict[str, np.ndarray]) -> None:
    young = s["persona"] == "young"
    channels, counts = np.unique(s["channel"][young], return_counts=True)
    assert channels[np.argmax(counts)] == "mobile_web"
    assert share(_is(s["channel"], "mobile_web"), young) > 0.30
    assert share(_is(s["channel"], "catalogue"), young) > 0.05
    assert share(_is(s["channel"], "store"), young) > 0.05
    others = ~young
    assert share(_is(s["channel"], "mobile_web"), young) > 2 * share(_is(s["channel"], "mobile_web"), others)


def test_traditional_customers_are_in_store_on_the_phone_and_with_the_catalogue(
    s: dict[str, np.ndarray],
) -> None:
    traditional = s["persona"] == "traditional"
    assert share(_is(s["channel"], "store", "phone", "catalogue"), traditional) > 0.65
    assert share(_is(s["channel"], "mobile_app", "mobile_web", "social", "marketplace"), traditional) < 0.05


def test_the_ultra_connected_use_the_most_channels_app_first(s: dict[str, np.ndarray]) -> None:
    ultra = s["persona"] == "ultra_connected"
    channels, counts = np.unique(s["channel"][ultra], return_counts=True)
    assert channels[np.argmax(counts)] == "mobile_app"

    def channels_per_customer(persona: str) -> float:
        mine = s["persona"] == persona
        pairs = np.unique(np.char.add(s["customer"][mine].astype(str), s["channel"][mine]))
        return len(pairs) / len(np.unique(s["customer"][mine]))

    ultra_breadth = channels_per_customer("ultra_connected")
    for other in ("traditional", "young", "office_worker"):
        assert ultra_breadth > 1.15 * channels_per_customer(other), other


def test_smartphones_in_the_morning_computers_by_day_tablets_in_the_evening(s: dict[str, np.ndarray]) -> None:
    morning = np.isin(s["hour"], [6, 7, 8])
    day = np.isin(s["hour"], WORK_HOURS)
    evening = np.isin(s["hour"], [19, 20, 21, 22, 23])
    phone = _is(s["channel"], *SMARTPHONE)
    desktop = _is(s["channel"], "desktop_web")
    tablet = _is(s["channel"], "tablet")
    assert share(phone, morning) > share(phone, day) + 0.10
    assert share(desktop, day) > 1.5 * share(desktop, morning)
    assert share(desktop, day) > 1.5 * share(desktop, evening)
    assert share(tablet, evening) > 2 * share(tablet, morning)
    assert share(tablet, evening) > 2 * share(tablet, day)


def test_stores_and_call_centre_are_only_visited_in_opening_hours(s: dict[str, np.ndarray]) -> None:
    store_hours = s["hour"][s["channel"] == "store"]
    assert len(store_hours) > 100 and store_hours.min() >= 9 and store_hours.max() < 20
    call_hours = s["hour"][s["channel"] == "phone"]
    assert len(call_hours) > 50 and call_hours.min() >= 8 and call_hours.max() < 20


def test_a_week_has_weekdays_and_a_weekend_that_differ(week_run: Run) -> None:
    w = chosen_sessions(week_run)
    weekend = w["weekday"] >= 5
    office = w["persona"] == "office_worker"
    assert share(_is(w["channel"], "desktop_web"), office & ~weekend) > 0.15
    # no desktop in the weekend mix: only answers to a campaign email and journeys begun on a weekday
    # (the cart left on the office computer) bring a few there
    assert share(_is(w["channel"], "desktop_web"), office & weekend) < 0.03
    store = _is(w["channel"], "store")
    saturday = w["weekday"] == 5
    weekday_store_share = share(store, ~weekend)
    assert share(store, saturday) > 1.3 * weekday_store_share
