"""The customers of one shard, as columns: who they are, where they shop, how to reach them.

Every attribute is drawn from the customer's own stream (keyed by customer id), so a customer is the
same person whatever the population size or shard count. What every customer's day depends on (persona,
activity, home store) is drawn for the whole shard; the rest only for the rows asked for (``Drawn``),
so that the many customers who do nothing on a day cost a few draws each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from parcours.simulator.model import Model
from parcours.simulator.rng import Purpose, Streams, categorical
from parcours.vocabulary import OUTBOUND_CHANNELS

Draw = Callable[[np.ndarray, np.ndarray, Any], np.ndarray]  # ids, personas, columns -> values


class Drawn:
    """A column drawn on demand: ``column[rows]`` (or ``column[rows, cols]`` for a matrix) draws the
    values of those rows only. A draw is a pure function of (seed, customer id), so the values are the
    same as if the whole column had been drawn at once, and a row nobody asks for is never drawn."""

    def __init__(self, ids: np.ndarray, persona: np.ndarray, draw: Draw, columns: int = 0) -> None:
        self.ids, self.persona, self.draw, self.columns = ids, persona, draw, columns

    def __getitem__(self, index: Any) -> np.ndarray:
        rows, cols = (index[0], index[1]) if isinstance(index, tuple) else (index, slice(None))
        if self.columns:
            cols = np.arange(self.columns)[cols]
        return self.draw(self.ids[rows], self.persona[rows], cols)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self[:]
        return values if dtype is None else values.astype(dtype)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray  # int64, sorted
    persona: np.ndarray  # int8 index into model.personas
    activity: np.ndarray  # float64 multiplier around the persona's mean
    app: Drawn  # bool: the app is installed
    account: Drawn  # bool: the customer has an account (web login, loyalty card)
    opt_in: Drawn  # bool (customers, len(OUTBOUND_CHANNELS))
    store: np.ndarray  # int32 home store

    def __len__(self) -> int:
        return len(self.ids)


def shard_of(ids: np.ndarray, customers_per_store: int, shards: int) -> np.ndarray:
    """Whole stores go to one shard, so a store's staff and stock never span two processes."""
    return (ids // customers_per_store) % shards


def shard_ids(total: int, customers_per_store: int, shards: int, shard: int) -> np.ndarray:
    """The shard's customer ids, sorted, built from its stores alone: nothing the size of the file."""
    stores = np.arange(shard, -(-total // customers_per_store), shards, dtype=np.int64)
    ids = (stores[:, None] * customers_per_store + np.arange(customers_per_store)[None, :]).ravel()
    return ids[ids < total]


def draw_customers(model: Model, streams: Streams, ids: np.ndarray) -> Customers:
    t = model.tables
    persona = categorical(
        t["persona_cum"], np.zeros(len(ids), dtype=np.int64), streams.uniform(Purpose.PERSONA, ids)
    )
    spread = t["activity_spread"][persona]
    activity = np.exp(spread * streams.normal(Purpose.ACTIVITY, ids) - spread**2 / 2)
    opt_rates = np.array(
        [[p.reach.opt_in.get(c, 0.0) for c in OUTBOUND_CHANNELS] for p in model.personas], dtype=np.float64
    )

    def app(i: np.ndarray, p: np.ndarray, _: Any) -> np.ndarray:
        return streams.uniform(Purpose.APP, i) < t["app_installed"][p]

    def account(i: np.ndarray, p: np.ndarray, _: Any) -> np.ndarray:
        return streams.uniform(Purpose.ACCOUNT, i) < t["has_account"][p]

    def opt_in(i: np.ndarray, p: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if np.ndim(cols) == 0:  # one channel: a column
            return streams.uniform(Purpose.OPT_IN, i, cols) < opt_rates[p, cols]
        return streams.uniform(Purpose.OPT_IN, np.asarray(i)[..., None], cols) < opt_rates[p][..., cols]

    persona = persona.astype(np.int8)
    return Customers(
        ids=ids,
        persona=persona,
        activity=activity,
        app=Drawn(ids, persona, app),
        account=Drawn(ids, persona, account),
        opt_in=Drawn(ids, persona, opt_in, len(OUTBOUND_CHANNELS)),
        store=(ids // model.scenario.stores.customers_per_store).astype(np.int32),
    )
