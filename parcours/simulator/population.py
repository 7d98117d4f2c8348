"""The customers of one shard, as columns: who they are, where they shop, how to reach them.

Every attribute is drawn from the customer's own stream (keyed by customer id), so a customer is the
same person whatever the population size or shard count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.simulator.model import Model
from parcours.simulator.rng import Purpose, Streams, categorical
from parcours.vocabulary import OUTBOUND_CHANNELS


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray  # int64, sorted
    persona: np.ndarray  # int8 index into model.personas
    activity: np.ndarray  # float64 multiplier around the persona's mean
    app: np.ndarray  # bool: the app is installed
    account: np.ndarray  # bool: the customer has an account (web login, loyalty card)
    opt_in: np.ndarray  # bool (customers, len(OUTBOUND_CHANNELS))
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
    channel_index = np.arange(len(OUTBOUND_CHANNELS))
    opt_in = streams.uniform(Purpose.OPT_IN, ids[:, None], channel_index[None, :]) < opt_rates[persona]
    return Customers(
        ids=ids,
        persona=persona.astype(np.int8),
        activity=activity,
        app=streams.uniform(Purpose.APP, ids) < t["app_installed"][persona],
        account=streams.uniform(Purpose.ACCOUNT, ids) < t["has_account"][persona],
        opt_in=opt_in,
        store=(ids // model.scenario.stores.customers_per_store).astype(np.int32),
    )
