"""What the backend sees of a customer (``visible_id``), by the ``identity`` capability.

- silos (multichannel): every channel is a silo: an anonymous device or cookie id, and once the customer logs
  in (or shows the card, or calls from a known number) that channel's own account id, never linked;
- shared (crosschannel): the anonymous id until the customer identifies (logs in, shows the card, calls from a
  known number), then the one shared account id;
- one_profile (omnichannel): everyone who has identified at some point (an account, a loyalty card, an
  app login) is recognised on every channel, even before logging in; the others stay anonymous devices;
- whatever the identity, the marketplace is a third party: its own account or an anonymous visitor, never the
  retailer's account.

Ids are numbers drawn from the customer's stream, rendered with a prefix: ``mobile_web-123`` for a
device or cookie, ``mobile_web-acct-456`` for a silo's account, ``acct-789`` for the shared account.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pyarrow as pa

from parcours.output.arrays import column, concatenated, decimal_strings, strings, take
from parcours.scenarios.capabilities import Identity
from parcours.simulator.model.rng import Purpose, Streams
from parcours.vocabulary import Channel

ACCOUNT = len(Channel)  # identity code of the shared account; codes below it are devices per channel
SILO = ACCOUNT + 1  # SILO + channel code: that channel's own account, in silos
PREFIXES = strings([f"{c.value}-" for c in Channel] + ["acct-"] + [f"{c.value}-acct-" for c in Channel])
_ID_SPACE = np.uint64(10**12)
_KNOWN_OFFLINE = np.array(
    [c in (Channel.STORE, Channel.PHONE, Channel.CHAT, Channel.KIOSK) for c in Channel], dtype=bool
)
_THIRD_PARTY = np.array([c is Channel.MARKETPLACE for c in Channel], dtype=bool)


def linked_on(
    identity: Identity, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """Whether the channel knows the person as their account (and so what they did elsewhere)."""
    return _lookup(_LINKED[identity], channel, logged_in, has_account)


def identity_code(
    identity: Identity, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """Which of the person's ids an event shows: ACCOUNT, a silo's own account, or a device."""
    return _lookup(_CODE[identity], channel, logged_in, has_account)


def _lookup(
    table: np.ndarray, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """``table[channel, logged_in, has_account]``, the arguments broadcast against each other."""
    return table[
        np.asarray(channel, dtype=np.intp),
        np.asarray(logged_in, dtype=np.intp),
        np.asarray(has_account, dtype=np.intp),
    ]


def linked_on_reference(
    identity: Identity, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """``linked_on`` as its rule reads; the lookup table is made from it (and tested against it)."""
    channel = np.asarray(channel, dtype=np.int64)
    if identity == "silos":
        return np.zeros(channel.shape, dtype=bool)
    if identity == "one_profile":
        known = np.broadcast_to(np.asarray(has_account, dtype=bool), channel.shape)
    else:
        known = logged_in | (has_account & _KNOWN_OFFLINE[channel])
    return known & ~_THIRD_PARTY[channel]


def identity_code_reference(
    identity: Identity, channel: np.ndarray, logged_in: np.ndarray, has_account: np.ndarray
) -> np.ndarray:
    """``identity_code`` as its rule reads; the lookup table is made from it (and tested against it)."""
    channel = np.asarray(channel, dtype=np.int16)
    in_silo = logged_in | (has_account & _KNOWN_OFFLINE[channel])
    silo = np.where(in_silo, SILO + channel, channel).astype(np.int16)
    if identity == "silos":
        return silo
    linked = linked_on_reference(identity, channel, logged_in, has_account)
    own = np.where(linked, ACCOUNT, channel).astype(np.int16)
    return np.where(_THIRD_PARTY[channel], silo, own).astype(np.int16)


# Both rules depend on (channel, logged in, has an account) only: tabulated once per identity, a call
# is one lookup. The engine calls them thousands of times a day on a few rows each, where the rules'
# dozen NumPy calls cost more than the rows (a 28-day month: about 20,000 calls).
_GRID = np.meshgrid(np.arange(len(Channel)), [False, True], [False, True], indexing="ij")
_IDENTITIES: tuple[Identity, ...] = get_args(Identity)
_LINKED = {i: linked_on_reference(i, _GRID[0], _GRID[1], _GRID[2]) for i in _IDENTITIES}
_CODE = {i: identity_code_reference(i, _GRID[0], _GRID[1], _GRID[2]) for i in _IDENTITIES}


def identity_number(streams: Streams, customer: np.ndarray, code: np.ndarray) -> np.ndarray:
    return (streams.bits(Purpose.IDENTITY, customer, code) % _ID_SPACE).astype(np.int64)


def identity_number_one(streams: Streams, customer: int, code: int) -> int:
    return streams.bits_one(Purpose.IDENTITY, customer, code) % (10**12)


def render(code: np.ndarray, number: np.ndarray) -> pa.Array:
    """Identity strings such as ``acct-123456789012`` or ``mobile_web-42``, built in Arrow."""
    prefix = take(PREFIXES, column(code.astype(np.int16, copy=False)))
    return concatenated(prefix, decimal_strings(column(number)))


def all_identities(
    streams: Streams, customer_ids: np.ndarray, channels: list[int], identity: Identity
) -> pa.Array:
    """Every id each customer can show with this identity, as a list column: the shared account
    (unless silos), a device id per channel, each silo's account (silos; the marketplace's own
    account always)."""
    devices = list(channels)
    shared = [] if identity == "silos" else [ACCOUNT]
    third = [c for c in channels if _THIRD_PARTY[c]]
    silos = [SILO + c for c in (channels if identity == "silos" else third)]
    codes = np.array([*shared, *devices, *silos], dtype=np.int16)
    n = len(customer_ids)
    cust = np.repeat(customer_ids, len(codes))
    code = np.tile(codes, n)
    strings = render(code, identity_number(streams, cust, code))
    offsets = column(np.arange(0, n * len(codes) + 1, len(codes), dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, strings)


# The first string kernel call once at import, not mid-run: through ``pyarrow.compute`` it imported
# optional modules, and a Ctrl-C landing inside that import was swallowed and the run went on to finish.
# Called directly (output/arrays.py) it imports nothing today; the call stays, for microseconds, in
# case a pyarrow release loads something on first use again.
render(np.zeros(1, np.int16), np.zeros(1, np.int64))
