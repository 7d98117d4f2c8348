"""The resolved scenario as a manifest records it: the Scenario spec's JSON kept whole (``output/``
imports no spec), with typed views of the few parts readers use. ``manifest`` re-exports them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


@dataclass(frozen=True)
class CalendarRecord:
    start: str = "1970-01-01"  # the first local day, ISO
    days: int = 1
    timezone: str = "UTC"


@dataclass(frozen=True)
class ServiceTimes:
    """How long a person serves (the scenario's means) and the answered-within target of a call."""

    mean_talk_s: float = 300.0
    mean_chat_s: float = 420.0
    mean_assist_s: float = 240.0
    target_within_s: float = 20.0


@dataclass(frozen=True)
class ScenarioRecord:
    """The resolved scenario as it ran (``data``: the Scenario spec's JSON), with typed views."""

    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return None if name is None else str(name)

    @property
    def integration(self) -> str | None:
        level = self.data.get("integration")
        return None if level is None else str(level)

    @cached_property
    def calendar(self) -> CalendarRecord:
        cal = as_dict(self.data.get("calendar"))
        default = CalendarRecord()
        return CalendarRecord(
            str(cal.get("start", default.start)),
            int(cal.get("days", default.days)),
            str(cal.get("timezone", default.timezone)),
        )

    @cached_property
    def demand_multipliers(self) -> dict[str, float]:
        """``demand.*_multiplier``: 1 is an ordinary day."""
        demand = as_dict(self.data.get("demand"))
        return {k: float(v) for k, v in demand.items() if k.endswith("_multiplier")}

    @cached_property
    def service_times(self) -> ServiceTimes:
        centre, stores, default = (
            as_dict(self.data.get("call_centre")),
            as_dict(self.data.get("stores")),
            ServiceTimes(),
        )
        return ServiceTimes(
            float(centre.get("mean_talk_s", default.mean_talk_s)),
            float(centre.get("mean_chat_s", default.mean_chat_s)),
            float(stores.get("mean_assist_s", default.mean_assist_s)),
            float(centre.get("target_within_s", default.target_within_s)),
        )

    @cached_property
    def economics(self) -> dict[str, Any]:
        """``economics``: the retailer's figures as the scenario gave them (none before they existed)."""
        return as_dict(self.data.get("economics"))

    @cached_property
    def store_week(self) -> dict[str, str] | None:
        """The stores' hours per weekday (``"10:00-19:00"`` or ``"closed"``); None: the same every day."""
        week = as_dict(self.data.get("stores")).get("week")
        return {str(k): str(v) for k, v in week.items()} if isinstance(week, dict) else None
