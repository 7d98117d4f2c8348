"""How a session on each channel unfolds: how many things a customer looks at and how long each takes.

These are the model's own assumptions (not persona traits): a session on a small screen is short and
quick, a desktop session longer, a store visit longer still. Calibrate against analytics if you have them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.output.schema import CHANNEL_CODE
from parcours.vocabulary import Channel


@dataclass(frozen=True)
class SessionShape:
    mean_views: float  # looks beyond the first: pages, searches, products, catalogue pages
    dwell_s: float  # mean seconds between two steps
    can_buy: bool  # a purchase can be made here
    identifies: bool  # the customer can log in here


SHAPES: dict[Channel, SessionShape] = {
    Channel.MOBILE_APP: SessionShape(4.0, 25.0, True, True),
    Channel.MOBILE_WEB: SessionShape(4.0, 30.0, True, True),
    Channel.DESKTOP_WEB: SessionShape(6.0, 40.0, True, True),
    Channel.TABLET: SessionShape(5.0, 45.0, True, True),
    Channel.MARKETPLACE: SessionShape(3.0, 30.0, True, True),
    Channel.SOCIAL: SessionShape(2.0, 20.0, False, False),
    Channel.EMAIL: SessionShape(1.0, 30.0, False, False),
    Channel.SMS: SessionShape(0.0, 10.0, False, False),
    Channel.PUSH: SessionShape(0.0, 10.0, False, False),
    Channel.CHAT: SessionShape(0.0, 60.0, False, True),
    Channel.PHONE: SessionShape(0.0, 60.0, True, True),
    Channel.STORE: SessionShape(3.0, 180.0, True, False),
    Channel.KIOSK: SessionShape(3.0, 30.0, True, True),
    Channel.CATALOGUE: SessionShape(5.0, 60.0, False, False),
}

N_CHANNELS = len(Channel)


def table(attribute: str) -> np.ndarray:
    """One attribute of every channel's shape, indexed by channel code."""
    out = np.zeros(N_CHANNELS, dtype=np.float64)
    for channel, shape in SHAPES.items():
        out[CHANNEL_CODE[channel]] = float(getattr(shape, attribute))
    return out


MEAN_VIEWS = table("mean_views")
DWELL_S = table("dwell_s")
CAN_BUY = table("can_buy").astype(bool)
IDENTIFIES = table("identifies").astype(bool)
# The retailer's own site and app (the marketplace is a third party; stores and desks are not online).
OWN_SITE = np.zeros(N_CHANNELS, dtype=bool)
for _channel in (Channel.MOBILE_APP, Channel.MOBILE_WEB, Channel.DESKTOP_WEB, Channel.TABLET):
    OWN_SITE[CHANNEL_CODE[_channel]] = True
