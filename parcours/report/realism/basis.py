"""What the realism figures are computed from: one scan of the events, the run's manifest, and a few
selections every figure shares (the retailer's own site, store visits, purchases by channel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from parcours.output.manifest import Manifest, ScenarioRecord
from parcours.report.columns.events import DAY_MS, Calendar, Events, Vocab
from parcours.report.columns.scan import Scan, Sessions
from parcours.vocabulary import Channel, EventType

#: The retailer's own site and app: where "online session conversion" and "cart abandonment" are measured.
OWN_SITE = (Channel.MOBILE_APP, Channel.MOBILE_WEB, Channel.DESKTOP_WEB, Channel.TABLET)
#: Online sales as FEVAD counts them: the own site and marketplaces.
ONLINE_SALES = (*OWN_SITE, Channel.MARKETPLACE)
#: Sales made in the store: at the till and at the kiosk.
STORE_SALES = (Channel.STORE, Channel.KIOSK)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Basis:
    scan: Scan
    vocab: Vocab
    calendar: Calendar
    manifest: Manifest

    @property
    def sessions(self) -> Sessions:
        return self.scan.sessions

    @property
    def customers(self) -> int:
        return self.manifest.counts.customers

    @property
    def scenario(self) -> ScenarioRecord:
        return self.manifest.scenario

    @property
    def integration(self) -> str:
        return self.scenario.integration or ""

    def channels(self, channels: tuple[Channel, ...]) -> np.ndarray:
        return np.array([self.vocab.channels.code(c.value) for c in channels], np.int16)

    def on(self, channel_codes: np.ndarray, channels: tuple[Channel, ...]) -> np.ndarray:
        return np.isin(channel_codes, self.channels(channels))

    def events(self, *types: EventType) -> Events:
        codes = [self.vocab.events.code(t.value) for t in types]
        return self.scan.picked.where(np.isin(self.scan.picked.event, codes))

    def count(self, event: EventType, channels: tuple[Channel, ...] | None = None) -> int:
        """How many events of a type the run holds (on those channels), from the cube."""
        per_channel = self.scan.cube[:, self.vocab.events.code(event.value)].sum(axis=(0, 2, 3))
        return int(per_channel[self.channels(channels)].sum() if channels else per_channel.sum())

    @cached_property
    def own_site(self) -> np.ndarray:
        """Sessions on the retailer's own site or app."""
        return self.on(self.sessions.channel, OWN_SITE)

    @cached_property
    def store_visits(self) -> np.ndarray:
        """Sessions that are a store visit (they hold a store_enter)."""
        s = self.sessions
        return np.asarray(s.entered & (s.channel == self.vocab.channels.code(Channel.STORE.value)))

    def session_day(self, start_local_ms: np.ndarray) -> np.ndarray:
        return np.asarray(start_local_ms // DAY_MS - self.calendar.first_day)

    def weekday_of_day(self) -> np.ndarray:
        """For each day of the run, its weekday (Monday = 0)."""
        days = np.arange(self.calendar.first_day, self.calendar.first_day + self.calendar.days)
        return np.asarray((days + 3) % 7)  # 1970-01-01 was a Thursday

    @property
    def first_date(self) -> dt.date:
        return dt.date(1970, 1, 1) + dt.timedelta(days=self.calendar.first_day)

    def ordinary_demand(self) -> bool:
        """No demand multiplier above 1: not a sale day or a peak scenario."""
        return all(v <= 1.0 for v in self.scenario.demand_multipliers.values())

    def closed_days(self) -> np.ndarray:
        """For each day of the run, whether the scenario's calendar closes the stores that day.

        Read from ``scenario.stores.week``: every weekday's hours, ``"10:00-19:00"`` or ``"closed"``. A
        scenario with one set of hours for every day (``opens``/``closes``) has no closed day.
        """
        week = self.scenario.store_week
        if week is None:
            return np.zeros(self.calendar.days, bool)
        closed = np.array([week.get(name, "closed").strip() == "closed" for name in WEEKDAYS])
        return np.asarray(closed[self.weekday_of_day()])
