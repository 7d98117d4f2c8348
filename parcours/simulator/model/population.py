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
        self._opted: dict[int, np.ndarray] = {}  # opt-in columns drawn alone (``opted_in``)

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

    def app_at(self, rows: np.ndarray) -> np.ndarray:
        """``app[rows]``, drawing only those rows unless the column is already drawn (same values)."""
        if "app" in self.__dict__:
            return self.app[rows]
        rate = self.model.tables["app_installed"][self.persona[rows]]
        return self.streams.uniform(Purpose.APP, self.ids[rows]) < rate

    @cached_property
    def opt_in(self) -> np.ndarray:
        """bool (customers, len(OUTBOUND_CHANNELS))."""
        channel_index = np.arange(len(OUTBOUND_CHANNELS))
        u = self.streams.uniform(Purpose.OPT_IN, self.ids[:, None], channel_index[None, :])
        return u < self._opt_in_rates()[self.persona]

    def opted_in(self, k: int) -> np.ndarray:
        """``opt_in[:, k]``, one channel's column drawn alone (the same values): a campaign on one
        channel draws one uniform per customer of the file, not one per outbound channel."""
        if "opt_in" in self.__dict__:
            return self.opt_in[:, k]
        if k not in self._opted:
            u = self.streams.uniform(Purpose.OPT_IN, self.ids, k)
            self._opted[k] = u < self._opt_in_rates()[self.persona, k]
        return self._opted[k]

    def _opt_in_rates(self) -> np.ndarray:
        return np.array(
            [[p.reach.opt_in.get(c, 0.0) for c in OUTBOUND_CHANNELS] for p in self.model.personas],
            dtype=np.float64,
        )


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (customer rows, stores), sorted, and how often each occurs.

    By sorting: NumPy 2.4's ``np.unique`` hashes, several times slower on the hundreds of thousands
    of rows of a shard (report/arrays.py measured it on millions)."""
    s = np.sort(values)
    first = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1]))) if len(s) else np.zeros(0, np.int64)
    return s[first], np.diff(np.append(first, len(s)))


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
