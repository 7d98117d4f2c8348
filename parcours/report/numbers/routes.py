"""Journey routes between channels: where a purchase intent was researched, bought, then collected or
brought back; and each persona's waits for a person.

A journey's research channel is the channel of its first session; its purchase channel that of its first
purchase or kiosk order ("no purchase" when it has none); its after-sale channel that of its first
pick-up, return or exchange (journeys without one end at the purchase). Service-only contacts and
campaign messages left unanswered are no purchase intents and are left out; so are journeys with no
session of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.report.columns.events import Events, Vocab
from parcours.report.columns.journeys import SERVICE, Journeys
from parcours.report.columns.scan import Sessions
from parcours.vocabulary import EventType, Outcome

STAGES = ("research", "purchase", "after-sale")
NO_PURCHASE = "no purchase"
#: Not purchase intents: service contacts, and campaign messages the customer did not act upon.
LEFT_OUT = (SERVICE, Outcome.NO_RESPONSE.value)
#: Waits for a person, per persona: (answered, given up) event types of each queue.
QUEUES = {
    "phone": (EventType.CALL_ANSWERED, EventType.CALL_ABANDONED),
    "chat": (EventType.CHAT_ANSWERED, EventType.CHAT_ABANDONED),
    "store staff": (EventType.STAFF_ASSIST, EventType.ASSIST_ABANDONED),
}


@dataclass(frozen=True)
class Routes:
    """links[persona, 0]: research -> purchase; links[persona, 1]: purchase -> after-sale.

    Nodes are the channels, then "no purchase" (a purchase-stage node only)."""

    nodes: list[str]
    links: np.ndarray  # [persona, 2, node, node] journeys
    journeys: np.ndarray  # [persona] journeys counted

    def overall(self) -> np.ndarray:
        return np.asarray(self.links.sum(axis=0))


def _first_by(key: np.ndarray, order_by: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct ``key``, the ``value`` of its row with the smallest ``order_by``."""
    order = np.lexsort((order_by, key))
    keys, first = np.unique(key[order], return_index=True)
    return keys, value[order][first]


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing: int) -> np.ndarray:
    pos = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
    found = (keys[pos] == wanted) if len(keys) else np.zeros(len(wanted), bool)
    return np.where(found, values[pos] if len(keys) else missing, missing)


def routes(sessions: Sessions, picked: Events, j: Journeys, vocab: Vocab, outcomes: list[str]) -> Routes:
    n_c, n_p = len(vocab.channels), len(vocab.personas)
    none = n_c  # the "no purchase" node; also "no after-sale"
    s_keys, s_channel = _first_by(
        sessions.journey, sessions.start_local_ms, sessions.channel.astype(np.int64)
    )
    buy = picked.where(np.isin(picked.event, _codes(vocab, EventType.PURCHASE, EventType.KIOSK_ORDER)))
    b_keys, b_channel = _first_by(buy.journey, buy.ts_ms, buy.channel.astype(np.int64))
    after = picked.where(
        np.isin(picked.event, _codes(vocab, EventType.PICKUP, EventType.RETURN, EventType.EXCHANGE))
    )
    a_keys, a_channel = _first_by(after.journey, after.ts_ms, after.channel.astype(np.int64))
    kept = ~np.isin(j.outcome, [outcomes.index(o) for o in LEFT_OUT if o in outcomes])
    journey, persona = j.journey[kept], j.persona[kept].astype(np.int64)
    research = _lookup(s_keys, s_channel, journey, -1)
    seen = research >= 0
    journey, persona, research = journey[seen], persona[seen], research[seen]
    purchase = _lookup(b_keys, b_channel, journey, none)
    aftersale = _lookup(a_keys, a_channel, journey, none)
    n = n_c + 1
    links = np.zeros((n_p, 2, n, n), np.int64)
    first = np.ravel_multi_index((persona, research, purchase), (n_p, n, n))
    links[:, 0] = np.bincount(first, minlength=n_p * n * n).reshape(n_p, n, n)
    has_after = (aftersale != none) & (purchase != none)
    second = np.ravel_multi_index(
        (persona[has_after], purchase[has_after], aftersale[has_after]), (n_p, n, n)
    )
    links[:, 1] = np.bincount(second, minlength=n_p * n * n).reshape(n_p, n, n)
    return Routes([*vocab.channels.names, NO_PURCHASE], links, np.bincount(persona, minlength=n_p))


def _codes(vocab: Vocab, *types: EventType) -> np.ndarray:
    return np.array([vocab.events.code(t.value) for t in types])


def persona_waits(picked: Events, vocab: Vocab) -> dict[str, np.ndarray]:
    """Per queue: [persona, 2] the mean wait (s) and how many waited (answered or gave up)."""
    out = {}
    n_p = len(vocab.personas)
    for name, types in QUEUES.items():
        rows = picked.where(np.isin(picked.event, _codes(vocab, *types)) & ~np.isnan(picked.wait_s))
        count = np.bincount(rows.persona, minlength=n_p).astype(np.float64)
        total = np.bincount(rows.persona, weights=rows.wait_s, minlength=n_p)
        mean = np.divide(total, count, out=np.full(n_p, np.nan), where=count > 0)
        out[name] = np.stack([mean, count], axis=1)
    return out


def link_list(links: np.ndarray, nodes: list[str]) -> list[dict[str, object]]:
    """The links of one persona (or all) as JSON rows, largest first within each pair of stages."""
    rows: list[dict[str, object]] = []
    for step in range(2):
        pairs = np.argwhere(links[step] > 0)
        pairs = pairs[np.argsort(-links[step][pairs[:, 0], pairs[:, 1]], kind="stable")]
        for a, b in pairs:
            rows.append(
                {
                    "from_stage": STAGES[step],
                    "from": nodes[a],
                    "to_stage": STAGES[step + 1],
                    "to": nodes[b],
                    "journeys": int(links[step, a, b]),
                }
            )
    return rows
