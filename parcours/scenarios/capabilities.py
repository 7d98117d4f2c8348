"""What the company's channels can do together: named capabilities, and the three integration levels
as presets of them.

Each field is one switch the simulator reads (docs/model.md lists where). A scenario names its level
(``integration``), which picks the preset, and may set single capabilities in a ``[capabilities]``
table: "crosschannel, plus live stock" is ``integration = "crosschannel"`` with ``stock_visible =
"live"``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from parcours.specfile import Spec
from parcours.vocabulary import IntegrationLevel

# Who the channels know the customer as:
# - "silos": every channel its own account (after login, a card, a known number), never linked;
# - "shared": one account for every channel, once the customer identifies on that channel;
# - "one_profile": whoever has identified at some point is recognised on every channel, before logging in.
Identity = Literal["silos", "shared", "one_profile"]
# Store stock shown online before a customer goes: nothing, this morning's count, or the live count.
StockView = Literal["none", "daily", "live"]


class Capabilities(Spec):
    """The switches; each field's description says what the simulator does when it is on."""

    identity: Annotated[
        Identity,
        Field(
            description="who the channels know the customer as: each channel its own account (silos), "
            "one account once the customer identifies (shared), or everyone who ever identified "
            "recognised everywhere (one_profile); recognised customers buy more (recognised_uplift)"
        ),
    ]
    cart_follows: Annotated[
        bool,
        Field(
            description="a cart started on one device or channel is there on the next, when both know "
            "the customer; otherwise it is lost (lost_cart_friction)"
        ),
    ]
    stock_visible: Annotated[
        StockView,
        Field(
            description="store stock shown online: none, this morning's count (daily) or the live "
            "count; customers who check (stock_check_rate) and see none buy online instead"
        ),
    ]
    click_collect: Annotated[
        bool,
        Field(
            description="an order on the retailer's own site can be collected in the customer's store "
            "(click_collect_rate), prepared from its shelves"
        ),
    ]
    order_from_store: Annotated[
        bool,
        Field(
            description="after an empty shelf, the store orders for home delivery, at a kiosk if there "
            "is one, else at the desk (stockout_order_rate)"
        ),
    ]
    hold_other_store: Annotated[
        bool,
        Field(
            description="after an empty shelf, staff see every store's stock and hold one from another "
            "store for collection (click_collect_rate)"
        ),
    ]
    returns_anywhere: Annotated[
        bool,
        Field(
            description="an online order can be brought back to a store (return_in_store_rate) rather "
            "than sent back by post"
        ),
    ]


PRESETS: dict[IntegrationLevel, Capabilities] = {
    IntegrationLevel.MULTICHANNEL: Capabilities(
        identity="silos",
        cart_follows=False,
        stock_visible="none",
        click_collect=False,
        order_from_store=False,
        hold_other_store=False,
        returns_anywhere=False,
    ),
    IntegrationLevel.CROSSCHANNEL: Capabilities(
        identity="shared",
        cart_follows=True,
        stock_visible="daily",
        click_collect=True,
        order_from_store=True,
        hold_other_store=False,
        returns_anywhere=True,
    ),
    IntegrationLevel.OMNICHANNEL: Capabilities(
        identity="one_profile",
        cart_follows=True,
        stock_visible="live",
        click_collect=True,
        order_from_store=True,
        hold_other_store=True,
        returns_anywhere=True,
    ),
}


def resolve(level: Any, overrides: Any) -> Any:
    """The preset of ``level`` with ``overrides`` (a capability table) laid over it, as a dict for
    validation; anything malformed is passed on as it is, for validation to name."""
    if overrides is None:
        overrides = {}
    if isinstance(overrides, Capabilities):
        overrides = overrides.model_dump()
    try:
        preset = PRESETS[IntegrationLevel(level)]
    except (ValueError, TypeError):
        return overrides  # the unknown level is reported on its own field
    if not isinstance(overrides, dict):
        return overrides
    return {**preset.model_dump(), **overrides}


__all__ = ["PRESETS", "Capabilities", "Identity", "StockView", "resolve"]
