"""The Scenario spec: who the customers are, when, and how the company's channels are set up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from parcours.scenarios.capabilities import Capabilities, resolve
from parcours.scenarios.economics import Economics
from parcours.specfile import Spec, check_distribution
from parcours.vocabulary import INBOUND_CHANNELS, OUTBOUND_CHANNELS, Channel, IntegrationLevel

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
Remarks = Annotated[str, Field(min_length=1)]
#: A time of day, 00:00 to 24:00 (the end of the day, for a closing time); 24:30 is no time.
CLOCK = r"(([01]\d|2[0-3]):[0-5]\d|24:00)"
ClockTime = Annotated[str, Field(pattern=rf"^{CLOCK}$")]
#: A count: an integer in the file, never a boolean (``customers = true`` is not one customer) nor 2.5.
Count = Annotated[int, Field(strict=True)]
#: The most products a store stocks: the stock table is stores x products per shard (4-byte levels, a
#: morning copy and 8-byte draws: 24 bytes a cell); a 1,500,000-customer shard at the built-in 2,000
#: customers per store has 750 stores, so 20,000 products is 360 MB, while 1,000,000,000 asked 7.45 GiB
#: for one store and failed. 20,000 is also more than a specialist chain's store range (assumption;
#: the built-in scenarios use 2,000).
MAX_PRODUCTS = 20_000
#: The largest customer file a call centre may serve: the calls of the file's customers outside the run
#: are simulated one by one, so time and memory grow with it (1,000,000,000 ran for minutes at 1.2 GB,
#: issue 19); 10,000,000 is about a hundredth of that, and beyond the customer file of most retailers
#: (assumption). A run of more customers than this still serves its own.
MAX_SERVED_CUSTOMERS = 10_000_000


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DayHours = Annotated[str, Field(pattern=rf"^(closed|{CLOCK}-{CLOCK})$")]


class OpeningHours(Spec):
    """Opening hours: the same every day (``opens``/``closes``) or per weekday (``week``)."""

    opens: ClockTime | None = None
    closes: ClockTime | None = None
    week: dict[Weekday, DayHours] | None = None  # "10:00-19:00" or "closed", every day of the week

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHours:
        if self.week is not None:
            if self.opens is not None or self.closes is not None:
                raise ValueError("give either week or opens/closes, not both")
            missing = [d for d in WEEKDAYS if d not in self.week]
            if missing:
                raise ValueError(f"week must give every day ({', '.join(missing)} missing)")
            for day, hours in self.week.items():
                if hours != "closed":
                    opens, closes = hours.split("-")
                    if minutes_of(opens) >= minutes_of(closes):
                        raise ValueError(
                            f"on {day} the opening ({opens}) must come before closing ({closes})"
                        )
            return self
        if self.opens is None or self.closes is None:
            raise ValueError("give week, or both opens and closes")
        if minutes_of(self.opens) >= minutes_of(self.closes):
            raise ValueError(f"opens ({self.opens}) must come before closes ({self.closes})")
        return self

    def minutes_on(self, weekday: int) -> tuple[int, int] | None:
        """Opening and closing minute on a weekday (0 = Monday), None when closed all day."""
        if self.week is None:
            assert self.opens is not None and self.closes is not None
            return minutes_of(self.opens), minutes_of(self.closes)
        hours = self.week[WEEKDAYS[weekday]]
        if hours == "closed":
            return None
        opens, closes = hours.split("-")
        return minutes_of(opens), minutes_of(closes)


class Population(Spec):
    customers: Annotated[Count, Field(gt=0)]
    seed: Annotated[Count, Field(ge=0)]
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
    days: Annotated[Count, Field(gt=0, le=366)] = 1
    holidays: list[dt.date] = []  # public holidays: no marketing SMS (AF2M); stores as on other days

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
    """Agents answering the phone (and chat), rostered by the hour from the ordinary forecast so as to
    answer ``target_answered`` of the calls within ``target_within_s`` (Erlang C). The centre serves
    the retailer's whole file of ``serves_customers`` (or the run's customers, if more)."""

    mean_talk_s: Positive
    mean_chat_s: Positive = 420.0
    target_answered: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    target_within_s: Positive = 20.0
    serves_customers: Annotated[Count, Field(gt=0, le=MAX_SERVED_CUSTOMERS)] = 200_000
    remarks: Remarks


class Stores(OpeningHours):
    """Physical stores: how many, their opening hours, their stock; floor staff rostered by the hour
    from the ordinary forecast (80% of help requests answered within ``assist_target_within_s``,
    Erlang C) and ``preparers_per_store`` for click & collect, so that orders never take the floor."""

    customers_per_store: Annotated[Count, Field(gt=0)]
    assist_target_within_s: Positive = 60.0
    preparers_per_store: Annotated[Count, Field(ge=1)] = 1
    assist_rate: Probability
    mean_assist_s: Positive
    products: Annotated[Count, Field(gt=0, le=MAX_PRODUCTS)] = 2000
    stock_cover_days: Positive = 1.0
    shelf_minimum_units: Annotated[Count, Field(ge=0)] = 1
    prepare_order_s: Positive = 300.0
    kiosks: bool = False
    remarks: Remarks


class Demand(Spec):
    """How much busier than an ordinary day: a sale day, a peak."""

    journeys_multiplier: Annotated[float, Field(gt=0.0, le=20.0)] = 1.0
    contacts_multiplier: Annotated[float, Field(gt=0.0, le=20.0)] = 1.0
    propensity_multiplier: Annotated[float, Field(gt=0.0, le=5.0)] = 1.0
    remarks: Remarks = "an ordinary day"


Throughput = Annotated[float, Field(gt=0.0, le=1e9)]


class Sending(Spec):
    """How fast the retailer's platforms send a campaign, in messages per hour on each outbound channel.

    A campaign goes out from its ``at`` time over the hours its platform needs for the whole customer
    file's recipients (the file: ``call_centre.serves_customers``, or the run's customers if more), in
    a random order: no second holds more messages than the platform sends in one."""

    email_per_hour: Throughput = 15_000.0
    sms_per_hour: Throughput = 36_000.0
    push_per_hour: Throughput = 36_000_000.0
    catalogue_per_hour: Throughput = 50_000.0
    remarks: Remarks = (
        "Email 15,000 an hour: a hosted phpList account sends in batches of 1,000 every 2-5 minutes, "
        "'a mailing of 15,000 messages should go out in an hour' (phpList knowledge base, Send speed); "
        "Delivra's default spreads a 100,000-recipient campaign over 6 hours (about 16,700 an hour; "
        "Delivra support, Send Rate Limiting). SMS 10 a second: a dedicated short code, the fastest "
        "route into France (ClickSend, France country guide). Push 600,000 a minute: Firebase Cloud "
        "Messaging's default per-project quota (FCM docs, Throttling and quotas). Paper catalogue "
        "50,000 an hour: the post's rounds deliver a town's catalogues over a morning (assumption)."
    )

    def per_hour(self, channel: Channel) -> float:
        return float(getattr(self, f"{channel}_per_hour"))


# French professional code of practice for marketing SMS (AF2M / FFTelecoms recommendations, quoted by
# the smsmode study, francemobiles.com, 12 Mar 2020): none on Sundays, public holidays, or 20:00-08:00.
SMS_FROM, SMS_UNTIL = "08:00", "20:00"


class Campaign(Spec):
    """A message sent to a segment at a set time, once (``day``) or every week (``weekdays``)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    channel: Channel
    day: Annotated[Count, Field(ge=1)] | None = None
    weekdays: list[Weekday] | None = None
    at: ClockTime
    personas: list[str] | None = None
    reach: Probability = 1.0
    # Spread the send over this many hours (a sender throttles an offer so that the replies, clicks and
    # calls it brings come over the afternoon rather than at once); never faster than [sending] allows.
    over_hours: Annotated[float, Field(gt=0.0, le=168.0)] | None = None
    remarks: str | None = None

    @field_validator("channel")
    @classmethod
    def _outbound(cls, channel: Channel) -> Channel:
        if channel not in OUTBOUND_CHANNELS:
            raise ValueError(f"{channel} is not an outbound channel ({', '.join(OUTBOUND_CHANNELS)})")
        return channel

    @model_validator(mode="after")
    def _once_or_weekly(self) -> Campaign:
        if self.day is not None and self.weekdays is not None:
            raise ValueError("give either day (once) or weekdays (every week), not both")
        if self.weekdays is not None and not self.weekdays:
            raise ValueError("weekdays must name at least one day")
        if self.channel is Channel.SMS:
            if not minutes_of(SMS_FROM) <= minutes_of(self.at) < minutes_of(SMS_UNTIL):
                raise ValueError(
                    f"a marketing SMS at {self.at} breaks the code of practice (AF2M): "
                    f"only between {SMS_FROM} and {SMS_UNTIL}"
                )
            if self.weekdays is not None and "sunday" in self.weekdays:
                raise ValueError("a marketing SMS on Sunday breaks the code of practice (AF2M)")
        return self

    def days_in(self, calendar: Calendar) -> list[int]:
        """The run's days (1-based) this campaign goes out on; a weekly SMS skips public holidays."""
        if self.weekdays is None:
            return [1 if self.day is None else self.day]
        out = []
        for d in range(calendar.days):
            date = calendar.start + dt.timedelta(days=d)
            if WEEKDAYS[date.weekday()] not in self.weekdays:
                continue
            if self.channel is Channel.SMS and date in calendar.holidays:
                continue
            out.append(d + 1)
        return out


class Outage(Spec):
    """A channel down for a time window: customers try another channel or give up."""

    channel: Channel
    day: Annotated[Count, Field(ge=1)] = 1
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
    integration: IntegrationLevel  # the preset of capabilities
    # After validation, every capability in force: the preset's, then those the [capabilities] table sets.
    capabilities: Capabilities
    population: Population
    calendar: Calendar
    call_centre: CallCentre
    stores: Stores
    demand: Demand = Demand()
    campaigns: list[Campaign] = []
    sending: Sending = Sending()
    outages: list[Outage] = []
    # Channels this retailer does not run (a pure player: ["store", "kiosk"]): every persona's share of
    # them goes to the channels left, in proportion, for research, purchase and campaign responses.
    without_channels: list[Channel] = []
    # What turns revenue and service work into margin (explain's worth per year, the report's costs);
    # each figure left out takes a default labelled an assumption. The simulation does not read it.
    economics: Economics = Economics()

    @field_validator("without_channels")
    @classmethod
    def _some_channel_left(cls, absent: list[Channel]) -> list[Channel]:
        if set(INBOUND_CHANNELS) <= set(absent):
            raise ValueError("takes out every channel customers start a session on; leave at least one")
        return absent

    @model_validator(mode="before")
    @classmethod
    def _preset_then_overrides(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {**data, "capabilities": resolve(data.get("integration"), data.get("capabilities"))}
        return data


__all__ = [
    "OUTBOUND_CHANNELS",
    "Calendar",
    "CallCentre",
    "Capabilities",
    "Channel",
    "Economics",
    "Population",
    "Scenario",
    "Sending",
    "Stores",
]
