"""Request bodies of the reference backend: bounded types, so that nothing out of range reaches SQLite.

Extra fields are ignored (a mapping may send more than a route reads); a missing or ill-typed one is
a 422 with the field named.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

MAX_ID = 2**53  # ids stay exact in JSON numbers and fit SQLite's 64-bit integers
MAX_TEXT = 200


def _encodable(text: str) -> str:
    """Refuse what SQLite cannot store (a lone surrogate from a JSON \\ud800 escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid UTF-8 text") from None
    return text


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_encodable)]


def _number(value: Any) -> Any:
    """A JSON number, never a boolean (``false`` would be product 0) nor a numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number, not a boolean or a string")
    return value


#: Integers as JSON Schema says: a number without a fraction (12 or 12.0), never true, false or "12".
Number = BeforeValidator(_number)
Id = Annotated[int, Field(ge=0, le=MAX_ID), Number]
Quantity = Annotated[int, Field(ge=1, le=10_000), Number]
Cents = Annotated[int, Field(ge=0, le=10**12), Number]
WaitS = Annotated[float, Field(ge=0, le=10**7, allow_inf_nan=False), Number]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SessionIn(Body):
    visible_id: Text
    channel: Text


class LoginIn(Body):
    visible_id: Text
    channel: Text
    account_id: Text | None = None  # the account logged into; the visible id itself when not given


class CartItemIn(Body):
    product_id: Id
    quantity: Quantity = 1


class OrderIn(Body):
    visible_id: Text
    channel: Text
    account_id: Text | None = None  # the customer's account, when they give it at checkout
    store_id: Id | None = None
    product_id: Id | None = None
    quantity: Quantity | None = None
    amount_cents: Cents | None = None


class StatusIn(Body):
    status: Annotated[str, Field(pattern="^(placed|ready|collected|delivered|cancelled)$")]


class OrderEventIn(Body):
    visible_id: Text
    account_id: Text | None = None
    store_id: Id | None = None
    product_id: Id | None = None


class PickupIn(Body):
    visible_id: Text
    account_id: Text | None = None  # from the order confirmation the customer shows
    product_id: Id | None = None


class ReturnIn(Body):
    visible_id: Text
    account_id: Text | None = None  # from the receipt
    kind: Annotated[str, Field(pattern="^(return|exchange)$")] = "return"
    store_id: Id | None = None
    product_id: Id | None = None
    amount_cents: Cents | None = None


class VisitIn(Body):
    visible_id: Text
    kind: Text = "store_enter"


class ContactIn(Body):
    visible_id: Text
    channel: Text
    kind: Text
    wait_s: WaitS | None = None


class ClickIn(Body):
    visible_id: Text
    channel: Text
    campaign_id: Id | None = None


class EventIn(Body):
    """An event for the collector; only these fields are kept."""

    event_id: Id | None = None
    visible_id: Text | None = None
    channel: Text | None = None
    event_type: Text | None = None
    ts: Text | None = None

    def row(self) -> dict[str, Any]:
        return self.model_dump()
