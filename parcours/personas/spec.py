"""The Persona spec: what one kind of customer does over a day, as validated, frozen data.

Every number that stands for something real sits in a section with a ``remarks`` line saying where it
comes from. Probabilities that should sum to 1 must; parcours never repairs a distribution silently.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from parcours.specfile import Spec, check_distribution
from parcours.vocabulary import INBOUND_CHANNELS, OUTBOUND_CHANNELS, Channel

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Remarks = Annotated[str, Field(min_length=1)]


class DayPart(StrEnum):
    """The day's shape: hours are grouped into parts, each with its own channel preference."""

    NIGHT = "night"  # 00:00-06:00
    MORNING = "morning"  # 06:00-09:00, the morning commute
    DAYTIME = "daytime"  # 09:00-12:00 and 14:00-17:00, working hours
    LUNCH = "lunch"  # 12:00-14:00, the break
    COMMUTE = "commute"  # 17:00-19:00, the evening commute
    EVENING = "evening"  # 19:00-24:00


#: The day part of each hour of the day, 0..23.
HOUR_PART: tuple[DayPart, ...] = (
    (DayPart.NIGHT,) * 6
    + (DayPart.MORNING,) * 3
    + (DayPart.DAYTIME,) * 3
    + (DayPart.LUNCH,) * 2
    + (DayPart.DAYTIME,) * 3
    + (DayPart.COMMUTE,) * 2
    + (DayPart.EVENING,) * 5
)

ChannelShares = dict[Channel, Probability]


def _inbound_distribution(shares: ChannelShares, what: str) -> ChannelShares:
    for channel in shares:
        if channel not in INBOUND_CHANNELS:
            raise ValueError(f"{channel} is not a channel customers start sessions on")
    check_distribution({str(k): v for k, v in shares.items()}, what)
    return shares


class ChannelMix(Spec):
    """Which channel a session is on, by day part: each part a distribution over inbound channels."""

    night: ChannelShares
    morning: ChannelShares
    daytime: ChannelShares
    lunch: ChannelShares
    commute: ChannelShares
    evening: ChannelShares

    @field_validator("*")
    @classmethod
    def _sums_to_one(cls, shares: ChannelShares) -> ChannelShares:
        return _inbound_distribution(shares, "channel shares")

    def shares(self, part: DayPart) -> ChannelShares:
        result: ChannelShares = getattr(self, part.value)
        return result


class Activity(Spec):
    """How often the persona starts a purchase intent over a year, and how an intent unfolds in time.

    A customer's intents are a renewal process: the gap between two intents is an Erlang distribution
    of shape ``renewal_shape`` (1: memoryless; 2 or more: someone who has just started one is less likely
    to start another soon), with the mean that gives ``purchases_per_year / propensity`` intents a year.
    Each intent has a research phase (``research_sessions`` sessions on average, spread over about
    ``research_days`` days) before the purchase. ``weekend_factor`` is how much likelier an intent starts
    on a Saturday or a Sunday than on a weekday. ``activity_spread`` is the log-normal sigma of each
    customer's activity around the persona's mean (0: every customer of the persona alike).
    """

    purchases_per_year: Positive
    renewal_shape: Annotated[int, Field(ge=1, le=4, strict=True)] = 2
    weekend_factor: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    research_sessions: NonNegative
    research_days: NonNegative
    minutes_between_sessions: Positive
    activity_spread: Annotated[float, Field(ge=0.0, le=2.0)] = 0.6
    hourly_weekday: list[Probability] = Field(min_length=24, max_length=24)
    hourly_weekend: list[Probability] = Field(min_length=24, max_length=24)
    remarks: Remarks

    @field_validator("hourly_weekday", "hourly_weekend")
    @classmethod
    def _hours_sum_to_one(cls, values: list[float]) -> list[float]:
        check_distribution(values, "hourly shares")
        return values


class Reach(Spec):
    """Which channels the company can reach the customer on, and how often they identify."""

    app_installed: Probability
    has_account: Probability
    login_rate: Probability
    opt_in: dict[Channel, Probability]
    remarks: Remarks

    @field_validator("opt_in")
    @classmethod
    def _outbound_only(cls, opt_in: dict[Channel, float]) -> dict[Channel, float]:
        for channel in opt_in:
            if channel not in OUTBOUND_CHANNELS:
                raise ValueError(f"{channel} is not an outbound channel ({', '.join(OUTBOUND_CHANNELS)})")
        return opt_in


class Response(Spec):
    """How the persona answers a message on one outbound channel."""

    open_rate: Probability
    click_rate: Probability
    mean_delay_minutes: Positive
    respond_on: ChannelShares

    @field_validator("respond_on")
    @classmethod
    def _respond_sums_to_one(cls, shares: ChannelShares) -> ChannelShares:
        return _inbound_distribution(shares, "respond_on")

    @model_validator(mode="after")
    def _clicks_need_opens(self) -> Response:
        if self.click_rate > self.open_rate:
            raise ValueError("click_rate cannot exceed open_rate (a click needs an open)")
        return self


class BuyOn(Spec):
    """Where the purchase of an intent is made: a store, the retailer's own site or app (the device
    follows the hour's channel mix), a marketplace (a third party), or the phone."""

    store: Probability
    own_site: Probability
    marketplace: Probability = 0.0
    phone: Probability = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> BuyOn:
        check_distribution(self.model_dump(), "buy_on")
        return self


class Purchase(Spec):
    """How likely an intent ends in a purchase, where, what the basket holds, and what gets in the way.

    - ``propensity``: share of intents that end in a purchase if nothing stops them;
    - ``buy_on``: the channel of the purchase phase;
    - ``cart_rate``: share of own-site research sessions that put the product in a cart;
    - ``lost_cart_friction``: chance of giving up when the purchase is made on another device than the
      one holding the cart and the channels do not share it (silos, or an unidentified customer);
    - ``recognised_uplift``: relative rise in propensity when the retailer recognises the customer
      across channels (service history, personalised offers);
    - ``stock_check_rate``: share of customers who researched online who check the store's stock before
      going, where the site shows it;
    - ``click_collect_rate``: share of own-site orders collected in store, where the company offers it;
    - ``pickup_cross_sell``: share of click & collect pick-ups with an extra purchase in the store;
    - ``stockout_substitute_rate``: share who buy a substitute on the spot when the shelf is empty;
    - ``stockout_order_rate``: share (of those who do not substitute) who order for delivery from the
      store, where the store can order (linked channels);
    - ``stockout_online_rate``: share who look for the product online later, by themselves;
    - ``return_in_store_rate``: share of returns of online orders brought to a store, where allowed.
    """

    propensity: Probability
    buy_on: BuyOn
    mean_basket_eur: Positive
    basket_sigma: Annotated[float, Field(gt=0.0, le=3.0)]
    mean_items: Annotated[float, Field(ge=1.0)]
    return_rate: Probability
    cart_rate: Probability
    lost_cart_friction: Probability
    recognised_uplift: Annotated[float, Field(ge=0.0, le=1.0)]
    stock_check_rate: Probability
    click_collect_rate: Probability
    pickup_cross_sell: Probability
    stockout_substitute_rate: Probability
    stockout_order_rate: Probability
    stockout_online_rate: Probability
    return_in_store_rate: Probability
    remarks: Remarks


class Patience(Spec):
    """How long the persona waits for a human (phone, chat, store staff) before giving up."""

    mean_wait_s: Positive
    callback_rate: Probability
    service_contacts_per_day: NonNegative
    remarks: Remarks


class Persona(Spec):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: Remarks
    population_share: Probability
    remarks: Remarks
    activity: Activity
    channels_weekday: ChannelMix
    channels_weekend: ChannelMix | None = None
    reach: Reach
    responses: dict[Channel, Response] = Field(default_factory=dict)
    purchase: Purchase
    patience: Patience
    multitasking: Probability = 0.0

    @field_validator("responses")
    @classmethod
    def _responses_outbound(cls, responses: dict[Channel, Response]) -> dict[Channel, Response]:
        for channel in responses:
            if channel not in OUTBOUND_CHANNELS:
                raise ValueError(f"{channel} is not an outbound channel ({', '.join(OUTBOUND_CHANNELS)})")
        return responses

    def channel_mix(self, weekend: bool) -> ChannelMix:
        return (self.channels_weekend or self.channels_weekday) if weekend else self.channels_weekday
