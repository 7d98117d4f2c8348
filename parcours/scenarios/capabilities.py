"""What the company's channels can do together: named capabilities, and the three integration levels
as presets of them.

Each field is one switch the simulator reads (docs/model.md lists where). A scenario names its level
(``integration``), which picks the preset, and may set single capabilities in a ``[capabilities]``
table: "crosschannel, plus live stock" is ``integration = "crosschannel"`` with ``stock_visible =
"live"``.
"""

from __future__ import annotations

from typing import Any, Literal

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
    """The switches; each says what the simulator does differently when it is on."""

    identity: Identity
    # a cart started on one device or channel is there on the next, when both know the customer
    cart_follows: bool
    stock_visible: StockView
    # an order on the retailer's own site can be collected in the customer's store
    click_collect: bool
    # after an empty shelf, the store orders for home delivery (at a kiosk if there is one, else staff)
    order_from_store: bool
    # after an empty shelf, staff see every store's stock and hold one from another store for collection
    hold_other_store: bool
    # an online order can be brought back to a store
    returns_anywhere: bool


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
