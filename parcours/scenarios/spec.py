"""The Scenario spec: who the customers are, when, and how the company's channels are set up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from parcours.specfile import Spec, check_distribution
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel, IntegrationLevel

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
Remarks = Annotated[str, Field(min_length=1)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class OpeningHours(Spec):
    opens: ClockTime
    closes: ClockTime

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHours:
        if minutes_of(self.opens) >= minutes_of(self.closes):
            raise ValueError(f"opens ({self.opens}) must come before closes ({self.closes})")
        return self


class Population(Spec):
    customers: Annotated[int, Field(gt=0)]
    seed: Annotated[int, Field(ge=0)]
    personas: dict[str, Probability] | None = None

    @field_validator("personas")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float] | None) -> dict[str, float] | None:
        if mix is not None:
            if not mix:
                raise ValueError("at least one persona")
            check_distribution(mix, "persona mix")
        return mix


class Calendar(Spec):
    start: dt.date
    timezone: str = "UTC"
    days: Annotated[int, Field(gt=0, le=366)] = 1

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CallCentre(OpeningHours):
    """Agents answering the phone (and chat): a queue, opening hours, a talk time."""

    agents_per_10k_customers: Positive
    mean_talk_s: Positive
    chat_agents_per_10k_customers: Positive = 3.0
    mean_chat_s: Positive = 420.0
    remarks: Remarks


class Stores(OpeningHours):
    """Physical stores: how many, their staff, their opening hours."""

    customers_per_store: Annotated[int, Field(gt=0)]
    staff_per_store: Annotated[int, Field(gt=0)]
    assist_rate: Probability
    mean_assist_s: Positive
    products: Annotated[int, Field(gt=0)] = 2000
    mean_stock_units: Positive = 3.0
    prepare_order_s: Positive = 300.0
    kiosks: bool = False
    remarks: Remarks


class Demand(Spec):
    """How much busier than an ordinary day: a sale day, a peak."""

    journeys_multiplier: Annotated[float, Field(gt=0.0, le=20.0)] = 1.0
    contacts_multiplier: Annotated[float, Field(gt=0.0, le=20.0)] = 1.0
    propensity_multiplier: Annotated[float, Field(gt=0.0, le=5.0)] = 1.0
    remarks: Remarks = "an ordinary day"


class Campaign(Spec):
    """A message sent to a segment at a set time; some recipients open it, some act on it."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    channel: Channel
    day: Annotated[int, Field(ge=1)] = 1
    at: ClockTime
    personas: list[str] | None = None
    reach: Probability = 1.0

    @field_validator("channel")
    @classmethod
    def _outbound(cls, channel: Channel) -> Channel:
        if channel not in OUTBOUND_CHANNELS:
            raise ValueError(f"{channel} is not an outbound channel ({', '.join(OUTBOUND_CHANNELS)})")
        return channel


class Outage(Spec):
    """A channel down for a time window: customers try another channel or give up."""

    channel: Channel
    day: Annotated[int, Field(ge=1)] = 1
    begins: ClockTime
    ends: ClockTime
    switch_rate: Probability = 0.6

    @model_validator(mode="after")
    def _begins_before_end(self) -> Outage:
        if minutes_of(self.begins) >= minutes_of(self.ends):
            raise ValueError(f"begins ({self.begins}) must come before ends ({self.ends})")
        return self


class Scenario(Spec):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: Remarks
    integration: IntegrationLevel
    population: Population
    calendar: Calendar
    call_centre: CallCentre
    stores: Stores
    demand: Demand = Demand()
    campaigns: list[Campaign] = []
    outages: list[Outage] = []
    # Channels this retailer does not run (a pure player: ["store", "kiosk"]): every persona's share of
    # them goes to the channels left, in proportion, for research, purchase and campaign responses.
    without_channels: list[Channel] = []


__all__ = ["OUTBOUND_CHANNELS", "Calendar", "CallCentre", "Channel", "Population", "Scenario", "Stores"]
