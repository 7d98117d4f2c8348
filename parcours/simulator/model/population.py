"""The customers of one shard, as columns: who they are, where they shop, how to reach them.

Every attribute is drawn from the customer's own stream (keyed by customer id), so a customer is the
same person whatever the population size or shard count. Only what decides whether a customer does
anything (persona, activity) is drawn for the whole file, at once; the rest (app, account, opt-ins) is
drawn on first use for the rows asked, so a shard draws it for the few customers who act that day
(``take`` the acting rows first) and a file of millions of inactive customers costs two draws each.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from parcours.simulator.model.inputs import Model
from parcours.simulator.model.rng import Purpose, Streams, categorical
from parcours.vocabulary import OUTBOUND_CHANNELS


class Customers:
    """Customers as columns. ``ids``, ``persona``, ``activity`` and ``store`` are eager; ``app``,
    ``account`` and ``opt_in`` are drawn when first read (for every row of this object)."""

    def __init__(
        self, model: Model, streams: Streams, ids: np.ndarray, persona: np.ndarray, activity: np.ndarray
    ) -> None:
        self.model, self.streams = model, streams
        self.ids = ids  # int64, sorted
        self.persona = persona  # int8 index into model.personas
        self.activity = activity  # float64 multiplier around the persona's mean
        self.store = (ids // model.scenario.stores.customers_per_store).astype(np.int32)  # home store

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> Customers:
        """The customers at these rows (sorted rows keep ids sorted); lazy columns stay lazy."""
        return Customers(self.model, self.streams, self.ids[rows], self.persona[rows], self.activity[rows])

    @cached_property
    def app(self) -> np.ndarray:
        """bool: the app is installed."""
        rate = self.model.tables["app_installed"][self.persona]
        return self.streams.uniform(Purpose.APP, self.ids) < rate

    @cached_property
    def account(self) -> np.ndarray:
        """bool: the customer has identified at some point (web account, loyalty card, app login)."""
        rate = self.model.tables["has_account"][self.persona]
        return self.streams.uniform(Purpose.ACCOUNT, self.ids) < rate

    @cached_property
    def opt_in(self) -> np.ndarray:
        """bool (customers, len(OUTBOUND_CHANNELS))."""
        rates = np.array(
            [[p.reach.opt_in.get(c, 0.0) for c in OUTBOUND_CHANNELS] for p in self.model.personas],
            dtype=np.float64,
        )
        channel_index = np.arange(len(OUTBOUND_CHANNELS))
        u = self.streams.uniform(Purpose.OPT_IN, self.ids[:, None], channel_index[None, :])
        return u < rates[self.persona]


def shard_of(ids: np.ndarray, customers_per_store: int, shards: int) -> np.ndarray:
    """Whole stores go to one shard, so a store's staff and stock never span two processes."""
    return (ids // customers_per_store) % shards


def shard_ids(total: int, customers_per_store: int, shards: int, shard: int) -> np.ndarray:
    """The shard's customer ids, sorted, built from its stores alone: nothing the size of the file."""
    stores = np.arange(shard, -(-total // customers_per_store), shards, dtype=np.int64)
    ids = (stores[:, None] * customers_per_store + np.arange(customers_per_store)[None, :]).ravel()
    return ids[ids < total]


def draw_customers(model: Model, streams: Streams, ids: np.ndarray) -> Customers:
    """The customers with these ids: persona and activity now, the rest when read."""
    t = model.tables
    persona = categorical(
        t["persona_cum"], np.zeros(len(ids), dtype=np.int64), streams.uniform(Purpose.PERSONA, ids)
    )
    spread = t["activity_spread"][persona]
    # One uniform and an inverse normal CDF would do; Box-Muller's two uniforms keep every customer's
    # activity what it was before the lazy columns.
    activity = np.exp(spread * streams.normal(Purpose.ACTIVITY, ids) - spread**2 / 2)
    return Customers(model, streams, ids, persona.astype(np.int8), activity)
