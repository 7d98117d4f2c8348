"""What the backend sees of a customer (``visible_id``), by integration level.

- multichannel: every channel is a silo with its own id for the person, never linked;
- crosschannel: an anonymous device id until the customer logs in (or shows a loyalty card, or calls
  from a known number), then the account id;
- omnichannel: one profile follows the customer everywhere.

Ids are numbers drawn from the customer's stream, rendered with a prefix per channel or ``acct-``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.output.schema import CHANNEL_CODE
from parcours.simulator.rng import Purpose, Streams
from parcours.vocabulary import Channel, IntegrationLevel

ACCOUNT = len(Channel)  # identity code of the account id; codes below it are per-channel ids
PREFIXES = pa.array([f"{c.value}-" for c in Channel] + ["acct-"], pa.string())
_ID_SPACE = np.uint64(10**12)
_KNOWN_OFFLINE = np.array(
    [c in (Channel.STORE, Channel.PHONE, Channel.CHAT, Channel.KIOSK) for c in Channel], dtype=bool
)


def identity_code(
    level: IntegrationLevel, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """Which of the person's ids an event shows: ACCOUNT or the channel's own code."""
    channel = channel.astype(np.int16)
    if level is IntegrationLevel.OMNICHANNEL:
        return np.full(channel.shape, ACCOUNT, dtype=np.int16)
    if level is IntegrationLevel.MULTICHANNEL:
        return channel
    linked = logged_in | (has_account & _KNOWN_OFFLINE[channel])
    return np.where(linked, ACCOUNT, channel).astype(np.int16)


def identity_number(streams: Streams, customer: np.ndarray, code: np.ndarray) -> np.ndarray:
    return (streams.bits(Purpose.IDENTITY, customer, code) % _ID_SPACE).astype(np.int64)


def render(code: np.ndarray, number: np.ndarray) -> pa.Array:
    """Identity strings such as ``acct-123456789012`` or ``mobile_web-42``, built in Arrow."""
    prefix = pc.take(PREFIXES, pa.array(code.astype(np.int16, copy=False)))
    digits = pc.cast(pa.array(number), pa.string())
    return pc.binary_join_element_wise(prefix, digits, "")


def all_identities(streams: Streams, customer_ids: np.ndarray, channels: list[int]) -> pa.Array:
    """Every id each customer can show: the account, then one per channel they use (a list column)."""
    codes = np.array([ACCOUNT, *channels], dtype=np.int16)
    n = len(customer_ids)
    cust = np.repeat(customer_ids, len(codes))
    code = np.tile(codes, n)
    strings = render(code, identity_number(streams, cust, code))
    offsets = pa.array(np.arange(0, n * len(codes) + 1, len(codes), dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, strings)


CHANNEL_OF_CODE = {code: channel for channel, code in CHANNEL_CODE.items()}
