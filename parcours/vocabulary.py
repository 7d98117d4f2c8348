"""The closed vocabulary every part of parcours shares: channels, event types, outcomes, levels.

The values are the strings written to Parquet. This module imports nothing of ours, so the persona and
scenario specs, the simulator and the output contract can all use it.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    MOBILE_APP = "mobile_app"
    MOBILE_WEB = "mobile_web"
    DESKTOP_WEB = "desktop_web"
    TABLET = "tablet"
    MARKETPLACE = "marketplace"
    SOCIAL = "social"
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    CHAT = "chat"
    PHONE = "phone"
    STORE = "store"
    KIOSK = "kiosk"
    CATALOGUE = "catalogue"


#: Channels a customer starts a session on by themselves (the rest only deliver messages).
INBOUND_CHANNELS: tuple[Channel, ...] = (
    Channel.MOBILE_APP,
    Channel.MOBILE_WEB,
    Channel.DESKTOP_WEB,
    Channel.TABLET,
    Channel.MARKETPLACE,
    Channel.SOCIAL,
    Channel.EMAIL,
    Channel.CHAT,
    Channel.PHONE,
    Channel.STORE,
    Channel.CATALOGUE,
)

#: Channels the company sends campaigns and notifications on.
OUTBOUND_CHANNELS: tuple[Channel, ...] = (Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.CATALOGUE)

#: Screens where a customer browses, searches and buys by themselves.
DIGITAL_CHANNELS: frozenset[Channel] = frozenset(
    {
        Channel.MOBILE_APP,
        Channel.MOBILE_WEB,
        Channel.DESKTOP_WEB,
        Channel.TABLET,
        Channel.MARKETPLACE,
        Channel.SOCIAL,
        Channel.KIOSK,
    }
)

#: Channels where a person from the company serves the customer.
HUMAN_CHANNELS: frozenset[Channel] = frozenset({Channel.PHONE, Channel.CHAT, Channel.STORE})


class EventType(StrEnum):
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    LOGIN = "login"
    PAGE_VIEW = "page_view"
    SEARCH = "search"
    PRODUCT_VIEW = "product_view"
    STOCK_CHECK = "stock_check"
    CART_ADD = "cart_add"
    CART_REMOVE = "cart_remove"
    CHECKOUT = "checkout"
    PURCHASE = "purchase"
    STORE_ENTER = "store_enter"
    STORE_EXIT = "store_exit"
    STAFF_ASSIST = "staff_assist"
    ASSIST_ABANDONED = "assist_abandoned"
    STOCK_OUT = "stock_out"
    CALL_QUEUED = "call_queued"
    CALL_ANSWERED = "call_answered"
    CALL_ABANDONED = "call_abandoned"
    CALL_END = "call_end"
    CHAT_QUEUED = "chat_queued"
    CHAT_ANSWERED = "chat_answered"
    CHAT_ABANDONED = "chat_abandoned"
    CHAT_END = "chat_end"
    SERVICE_MESSAGE = "service_message"
    MESSAGE_SENT = "message_sent"
    MESSAGE_OPENED = "message_opened"
    MESSAGE_CLICKED = "message_clicked"
    CATALOGUE_READ = "catalogue_read"
    ORDER_READY = "order_ready"
    PICKUP = "pickup"
    RETURN = "return"
    EXCHANGE = "exchange"
    KIOSK_ORDER = "kiosk_order"


class Outcome(StrEnum):
    """How a journey (one purchase intent) ended."""

    BOUGHT = "bought"
    ABANDONED = "abandoned"
    LOST_TO_STOCKOUT = "lost_to_stockout"
    RETURNED = "returned"
    SERVICE = "service"  # a customer-service contact with no purchase intent
    NO_RESPONSE = "no_response"  # a campaign message the customer did not act upon


class IntegrationLevel(StrEnum):
    """How far the company's channels are linked: the scenario's main strategic knob."""

    MULTICHANNEL = "multichannel"
    CROSSCHANNEL = "crosschannel"
    OMNICHANNEL = "omnichannel"


class BuiltinPersona(StrEnum):
    ULTRA_CONNECTED = "ultra_connected"
    TRADITIONAL = "traditional"
    YOUNG = "young"
    OFFICE_WORKER = "office_worker"
