"""Opening hours over the run: when the stores and the call centre are open, day by day.

A scenario gives hours per weekday (the French default: stores closed on Sunday, Code du travail
L3132-3). Whatever lands on a closed time (a pick-up, a return, a campaign's store visit, a call)
moves to the next opening, at a time drawn from that channel's day shape, not to the opening instant:
customers do not queue at the door at opening time, they come through the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from parcours.scenarios import Scenario
from parcours.scenarios.spec import OpeningHours

# Hourly weights of arrivals over an open day (local hours 0-23), used only to spread what has to move.
# Stores: low at opening, a lunch bump 12-14, the main peak 15-18 (ShopperTrak, 2015-2017, US peak
# hours 2-5 pm; Zenreach 2020, 12-2 pm and 5-7 pm); France-specific hourly profiles were not found, so
# the exact weights are an assumption.
STORE_SHAPE = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 5, 7, 9, 9, 8, 9, 10, 10, 9, 6, 3, 1, 0, 0], dtype=np.float64
)
# Calls: a morning peak and a smaller early-afternoon one, as in the bank call centre of Brown et al.
# (2005, JASA 100(469)); the weights themselves are an assumption.
CALL_SHAPE = np.array(
    [0, 0, 0, 0, 0, 0, 0, 2, 6, 10, 10, 9, 7, 7, 8, 8, 7, 6, 5, 4, 3, 1, 0, 0], dtype=np.float64
)


@dataclass(frozen=True)
class Opening:
    """One channel's opening periods, one per day of the run (and the day after), in seconds since t0."""

    opens_s: np.ndarray  # float64 per day; nan when closed all day
    closes_s: np.ndarray
    hour_s: np.ndarray  # (days, 25) start of each local hour, seconds since t0 (DST-proof)
    cum: np.ndarray  # (days, 24) cumulative arrival weight over the open part of each hour

    def is_open(self, at_s: np.ndarray) -> np.ndarray:
        at = np.asarray(at_s, np.float64)
        day = self._day(at)
        with np.errstate(invalid="ignore"):
            return (at >= self.opens_s[day]) & (at < self.closes_s[day])

    def next_opening(self, at_s: np.ndarray) -> np.ndarray:
        """The first open moment at or after each time; inf when none is left in the run."""
        at = np.asarray(at_s, np.float64)
        return np.where(self.is_open(at), at, self.opens_s_from(at))

    def opens_s_from(self, at_s: np.ndarray) -> np.ndarray:
        """The start of the next opening period that begins after ``at_s`` (or today's, if still ahead)."""
        day = self._next_day(np.asarray(at_s, np.float64))
        return np.where(day < len(self.opens_s), self.opens_s[np.minimum(day, len(self.opens_s) - 1)], np.inf)

    def move(self, at_s: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Open times stay; a closed time moves into the next opening day, drawn from its day shape."""
        at = np.asarray(at_s, np.float64)
        out = at.copy()
        closed = ~self.is_open(at)
        if not closed.any():
            return out
        day = self._next_day(at[closed])
        ok = day < len(self.opens_s)
        moved = np.full(len(day), np.inf)
        d = day[ok]
        cum = self.cum[d]
        w = np.asarray(u, np.float64)[closed][ok] * cum[:, -1]
        hour = np.minimum((cum < w[:, None]).sum(axis=1), 23)
        lo = np.where(hour > 0, cum[np.arange(len(d)), hour - 1], 0.0)
        width = cum[np.arange(len(d)), hour] - lo
        frac = np.where(width > 0, (w - lo) / np.where(width > 0, width, 1.0), 0.0)
        begin = np.maximum(self.hour_s[d, hour], self.opens_s[d])
        end = np.minimum(self.hour_s[d, hour + 1], self.closes_s[d])
        moved[ok] = begin + frac * (end - begin)
        out[closed] = moved
        return out

    def _day(self, at: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.hour_s[:, 0], at, side="right") - 1, 0, len(self.opens_s) - 1)

    def _next_day(self, at: np.ndarray) -> np.ndarray:
        """The first day whose opening is still ahead of ``at`` (len(days) when none)."""
        day = self._day(at)
        out = np.full(len(at), len(self.opens_s), dtype=np.int64)
        for k in range(8):  # a week at most between two openings
            d = day + k
            inside = d < len(self.opens_s)
            d_safe = np.minimum(d, len(self.opens_s) - 1)
            with np.errstate(invalid="ignore"):
                ahead = inside & (self.opens_s[d_safe] >= at) & (out == len(self.opens_s))
            out[ahead] = d[ahead]
            if not (out == len(self.opens_s)).any():
                break  # every time has its day (a later one could only be found for those without)
        return out


def opening_of(
    scenario: Scenario, hours: OpeningHours, hour_starts: np.ndarray, shape: np.ndarray
) -> Opening:
    """The channel's opening periods for each day of ``hour_starts`` (epoch s, (days, 24))."""
    t0 = float(hour_starts[0, 0])
    days = len(hour_starts)
    first = scenario.calendar.start
    hour_s = np.empty((days, 25))
    hour_s[:, :24] = hour_starts - t0
    hour_s[:-1, 24] = hour_s[1:, 0]
    hour_s[-1, 24] = hour_s[-1, 23] + 3600.0
    opens = np.full(days, np.nan)
    closes = np.full(days, np.nan)
    cum = np.zeros((days, 24))
    for d in range(days):
        minutes = hours.minutes_on((first + dt.timedelta(days=d)).weekday())
        if minutes is None:
            continue
        (oh, om), (ch, cm) = divmod(minutes[0], 60), divmod(minutes[1], 60)
        opens[d] = hour_s[d, oh] + om * 60.0
        closes[d] = hour_s[d, ch] + cm * 60.0 if ch < 24 else hour_s[d, 24]
        overlap = np.clip(
            np.minimum(hour_s[d, 1:], closes[d]) - np.maximum(hour_s[d, :24], opens[d]), 0, None
        )
        weights = overlap * np.where(shape > 0, shape, 0.05)  # a little everywhere the door is open
        cum[d] = np.cumsum(weights)
    return Opening(opens, closes, hour_s, cum)


def open_some_day(hours: OpeningHours) -> np.ndarray:
    """Local hours (0-23) during which the channel is open at some time on some weekday."""
    out = np.zeros(24, dtype=bool)
    for weekday in range(7):
        minutes = hours.minutes_on(weekday)
        if minutes is None:
            continue
        for h in range(24):
            out[h] |= minutes[0] < (h + 1) * 60 and h * 60 < minutes[1]
    return out
