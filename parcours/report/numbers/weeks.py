"""Days of the week: what a run does on each weekday, and its busiest hour, counted per real day.

A multi-day run is read day by day: each weekday's figures are its totals over the run's days of that
weekday, divided by how many there were, so an open Saturday and a closed Sunday stay apart. The
busiest hour is the local hour in which customers start the most sessions over the whole run (a
session starts at its first event; the retailer's own messages are not sessions), divided by the run's
days: a mean day, not a weekday day plus a weekend day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.report.columns.events import DAY_MS, HOUR_MS, Calendar, Events, Vocab
from parcours.report.columns.scan import Sessions
from parcours.vocabulary import EventType

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SATURDAY, SUNDAY = 5, 6


def weekday_of_days(calendar: Calendar) -> np.ndarray:
    """Monday = 0 for each day of the run (1970-01-01 was a Thursday)."""
    return np.asarray((np.arange(calendar.first_day, calendar.first_day + calendar.days) + 3) % 7)


#: Day kinds the channel-use heatmaps keep apart: stores may open on Saturday and close on Sunday.
DAY_KINDS = ("weekdays", "saturday", "sunday")


def day_kinds(calendar: Calendar) -> np.ndarray:
    """For each day of the run: 0 Monday-Friday, 1 Saturday, 2 Sunday."""
    wd = weekday_of_days(calendar)
    return np.asarray(np.where(wd == SATURDAY, 1, np.where(wd == SUNDAY, 2, 0)))


@dataclass(frozen=True)
class Weekday:
    """One day of the week as the run saw it: its days, and per day of it the figures."""

    weekday: int
    days: int
    sessions: float
    revenue_eur: float
    store_visits: float
    calls: float  # calls that reached the queue (answered or given up)
    service_level: float  # calls answered within the threshold / calls; NaN without a call
    busiest_hour: int  # -1 without a session
    busiest_hour_sessions: float

    @property
    def name(self) -> str:
        return WEEKDAYS[self.weekday]


@dataclass(frozen=True)
class Week:
    weekdays: list[Weekday]  # the weekdays present in the run, Monday first
    busiest_hour: int  # local 0-23, -1 without a session
    busiest_hour_sessions_per_day: float  # sessions started in that hour over the run / the run's days
    sessions_by_day_hour: np.ndarray  # [day of the run, local hour] sessions started

    def kind(self, weekday: int) -> str:
        return "saturday" if weekday == SATURDAY else "sunday" if weekday == SUNDAY else "weekday"


def _day(local_ms: np.ndarray, calendar: Calendar) -> np.ndarray:
    return np.asarray(np.clip(local_ms // DAY_MS - calendar.first_day, 0, calendar.days - 1))


def _per_day(day: np.ndarray, days: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(day, weights=weights, minlength=days).astype(np.float64)


def week(sessions: Sessions, picked: Events, calendar: Calendar, vocab: Vocab, within_s: float) -> Week:
    days = calendar.days
    s_day = _day(sessions.start_local_ms, calendar)
    hour = np.asarray((sessions.start_local_ms % DAY_MS) // HOUR_MS)
    by_day_hour = np.bincount(s_day * 24 + hour, minlength=days * 24).reshape(days, 24).astype(np.float64)
    visits = _per_day(s_day[sessions.entered], days)
    buy = picked.where(picked.event == vocab.events.code(EventType.PURCHASE.value))
    revenue = _per_day(buy.day(calendar), days, np.maximum(buy.amount_cents, 0) / 100)
    answered, gave_up = (
        vocab.events.code(t.value) for t in (EventType.CALL_ANSWERED, EventType.CALL_ABANDONED)
    )
    call = picked.where(np.isin(picked.event, [answered, gave_up]))
    arrived = call.local_ms - np.nan_to_num(call.wait_s * 1000).astype(np.int64)
    c_day = _day(arrived, calendar)
    calls = _per_day(c_day, days)
    quick = _per_day(c_day[(call.event == answered) & (np.nan_to_num(call.wait_s) <= within_s)], days)
    of_day = weekday_of_days(calendar)
    out = []
    for wd in range(7):
        chosen = of_day == wd
        n = int(chosen.sum())
        if not n:
            continue
        hours = by_day_hour[chosen].sum(axis=0)
        peak = int(np.argmax(hours)) if hours.any() else -1
        n_calls = float(calls[chosen].sum())
        out.append(
            Weekday(
                weekday=wd,
                days=n,
                sessions=float(by_day_hour[chosen].sum()) / n,
                revenue_eur=float(revenue[chosen].sum()) / n,
                store_visits=float(visits[chosen].sum()) / n,
                calls=n_calls / n,
                service_level=float(quick[chosen].sum()) / n_calls if n_calls else float("nan"),
                busiest_hour=peak,
                busiest_hour_sessions=float(hours[peak]) / n if peak >= 0 else 0.0,
            )
        )
    total = by_day_hour.sum(axis=0)
    peak = int(np.argmax(total)) if total.any() else -1
    return Week(out, peak, float(total[peak]) / days if peak >= 0 else 0.0, by_day_hour)
