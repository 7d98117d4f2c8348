"""Campaign messages: when each (customer, channel, campaign) was first sent, opened and clicked.

Rates per delivered message count distinct recipients of a campaign (a customer who opens twice
opens once), and "opens follow sends" compares, per key, the first open with the first send. A message
without a campaign (``campaign_id`` null) gets campaign -1, so it needs a send without one too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.report.columns.arrays import member
from parcours.report.columns.events import Events, Vocab
from parcours.vocabulary import EventType

KINDS = {
    "sent": EventType.MESSAGE_SENT,
    "opened": EventType.MESSAGE_OPENED,
    "clicked": EventType.MESSAGE_CLICKED,
}
CUSTOMER_SHIFT, CHANNEL_SHIFT = 20, 16  # key = customer << 20 | channel << 16 | (campaign + 1)


def message_key(customer: np.ndarray, channel: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    return np.asarray(
        (customer.astype(np.int64) << CUSTOMER_SHIFT)
        | (channel.astype(np.int64) << CHANNEL_SHIFT)
        | (campaign.astype(np.int64) + 1)
    )


def key_channel(key: np.ndarray) -> np.ndarray:
    return np.asarray((key >> CHANNEL_SHIFT) & ((1 << (CUSTOMER_SHIFT - CHANNEL_SHIFT)) - 1))


def key_campaign(key: np.ndarray) -> np.ndarray:
    return np.asarray((key & ((1 << CHANNEL_SHIFT) - 1)) - 1)


def _first_per_key(key: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys, sorted, with the earliest time of each."""
    if not len(key):
        return key, ts
    order = np.lexsort((ts, key))
    key, ts = key[order], ts[order]
    first = np.concatenate(([True], key[1:] != key[:-1]))
    return key[first], ts[first]


@dataclass(frozen=True)
class FirstTimes:
    key: np.ndarray  # sorted, distinct
    ts_ms: np.ndarray  # the first time of each key


@dataclass(frozen=True)
class Messages:
    sent: FirstTimes
    opened: FirstTimes
    clicked: FirstTimes

    def unsent(self, kind: str) -> np.ndarray:
        """Keys opened (or clicked) with no send of the same key at or before their first time."""
        got: FirstTimes = getattr(self, kind)
        pos = np.clip(np.searchsorted(self.sent.key, got.key), 0, max(len(self.sent.key) - 1, 0))
        found = member(got.key, self.sent.key)
        sent_before = found & (self.sent.ts_ms[pos] <= got.ts_ms) if len(self.sent.key) else found
        return got.key[~sent_before]


class MessageCollector:
    """Keeps, per batch, each key's first time per kind; the earliest over batches wins at the end."""

    def __init__(self, vocab: Vocab) -> None:
        self.codes = {kind: vocab.events.code(t.value) for kind, t in KINDS.items()}
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {kind: [] for kind in KINDS}

    def add(self, ev: Events) -> None:
        for kind, code in self.codes.items():
            rows = ev.event == code
            if rows.any():
                key = message_key(ev.customer[rows], ev.channel[rows], ev.campaign[rows])
                self.parts[kind].append(_first_per_key(key, ev.ts_ms[rows]))

    def finish(self) -> Messages:
        def one(kind: str) -> FirstTimes:
            parts = self.parts[kind]
            key = np.concatenate([np.zeros(0, np.int64), *(p[0] for p in parts)])
            ts = np.concatenate([np.zeros(0, np.int64), *(p[1] for p in parts)])
            return FirstTimes(*_first_per_key(key, ts))

        return Messages(one("sent"), one("opened"), one("clicked"))
