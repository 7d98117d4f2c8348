"""The funnel, revenue and basket, and what became of journeys that met a stock-out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.report.columns.codes import Codes
from parcours.report.columns.events import Events, Vocab
from parcours.report.columns.journeys import Journeys
from parcours.report.columns.scan import Sessions
from parcours.vocabulary import EventType, Outcome

FUNNEL = ("sessions", "carts", "orders", "pickups", "returns")


def _by(
    persona: np.ndarray,
    channel: np.ndarray,
    n_channels: int,
    n_personas: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    flat = persona.astype(np.int64) * n_channels + channel
    return np.bincount(flat, weights=weights, minlength=n_personas * n_channels).reshape(
        n_personas, n_channels
    )


def funnel(sessions: Sessions, cube: np.ndarray, vocab: Vocab) -> np.ndarray:
    """[persona, channel, stage]: sessions, sessions with a cart, sessions with an order, pickups, returns.

    Pickups and returns are events (one per parcel collected or brought back), the rest are sessions.
    """
    shape = (len(vocab.channels), len(vocab.personas))
    s = sessions
    per_event = cube.sum(axis=(0, 4))  # [event, channel, persona]

    def events(*types: EventType) -> np.ndarray:
        return sum((per_event[vocab.events.code(t.value)] for t in types), np.zeros(shape, np.int64)).T

    return np.stack(
        [
            _by(s.persona, s.channel, *shape),
            _by(s.persona[s.cart], s.channel[s.cart], *shape),
            _by(s.persona[s.order], s.channel[s.order], *shape),
            events(EventType.PICKUP),
            events(EventType.RETURN, EventType.EXCHANGE),
        ],
        axis=-1,
    ).astype(np.int64)


@dataclass(frozen=True)
class Sales:
    purchases: np.ndarray  # [persona, channel] purchase events
    revenue_cents: np.ndarray  # [persona, channel] their amounts
    items: np.ndarray  # [persona, channel] their quantities
    basket_cents: np.ndarray  # every purchase's amount, for the distribution
    refunds_cents: int  # amounts on return events


def sales(picked: Events, vocab: Vocab) -> Sales:
    shape = (len(vocab.channels), len(vocab.personas))
    buy = picked.where(picked.event == vocab.events.code(EventType.PURCHASE.value))
    amount = np.maximum(buy.amount_cents, 0)
    returns = picked.where(picked.event == vocab.events.code(EventType.RETURN.value))
    return Sales(
        purchases=_by(buy.persona, buy.channel, *shape).astype(np.int64),
        revenue_cents=_by(buy.persona, buy.channel, *shape, weights=amount).astype(np.int64),
        items=_by(buy.persona, buy.channel, *shape, weights=np.maximum(buy.quantity, 0)).astype(np.int64),
        basket_cents=amount[buy.amount_cents >= 0],
        refunds_cents=int(np.maximum(returns.amount_cents, 0).sum()),
    )


@dataclass(frozen=True)
class Stockouts:
    """Journeys that met at least one stock-out, by what became of them."""

    journeys: int
    fate: dict[str, int]  # "lost", "abandoned", "bought on CHANNEL", ...
    lost_value_cents: float  # out-of-stock products' prices over journeys lost to them; NaN if unpriced
    lost_prices_cents: np.ndarray  # each lost journey's out-of-stock price (NaN if unpriced)


def _lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids`` and whether each was found."""
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, max(len(sorted_ids) - 1, 0))
    found = sorted_ids[pos] == ids if len(sorted_ids) else np.zeros(len(ids), bool)
    return pos, found


def stockouts(picked: Events, j: Journeys, vocab: Vocab, outcomes: Codes) -> Stockouts:
    out = picked.where(picked.event == vocab.events.code(EventType.STOCK_OUT.value))
    ids, first = np.unique(out.journey, return_index=True)
    order = np.argsort(j.journey, kind="stable")
    pos, found = _lookup(j.journey[order], ids)
    outcome = np.where(found, j.outcome[order][pos], -1)
    buy = picked.where(picked.event == vocab.events.code(EventType.PURCHASE.value))
    bought_ids, last = np.unique(buy.journey[::-1], return_index=True)  # each journey's last purchase
    bpos, bfound = _lookup(bought_ids, ids)
    channel = np.where(bfound, buy.channel[::-1][last[bpos]] if len(last) else -1, -1)
    lost = outcome == outcomes.code(Outcome.LOST_TO_STOCKOUT.value)
    fate = {
        "lost to the stock-out": int(lost.sum()),
        "abandoned": int((outcome == outcomes.code(Outcome.ABANDONED.value)).sum()),
    }
    bought = np.isin(outcome, [outcomes.code(Outcome.BOUGHT.value), outcomes.code(Outcome.RETURNED.value)])
    for code in np.unique(channel[bought & (channel >= 0)]):
        fate[f"then bought: {vocab.channels.names[code]}"] = int((channel[bought] == code).sum())
    fate["other"] = len(ids) - sum(fate.values())
    prices = out.amount_cents[first][lost]
    priced = (prices >= 0).any() or not len(prices)
    each = np.maximum(prices, 0).astype(np.float64) if priced else np.full(len(prices), np.nan)
    return Stockouts(len(ids), fate, float(each.sum()) if priced else float("nan"), each)
