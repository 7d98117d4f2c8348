"""Stock per store and product: runs out as customers buy, replenished overnight.

Stores stock a product in proportion to the square root of its popularity: best-sellers run deep, the
long tail is thin, and some tail products are simply not on the shelf; that is where stock-outs come from.
"""

from __future__ import annotations

import numpy as np

from parcours.simulator.model import Model
from parcours.simulator.plan import popularity
from parcours.simulator.rng import Purpose, Streams


class Stock:
    def __init__(self, model: Model, streams: Streams, stores: np.ndarray) -> None:
        stores_cfg = model.scenario.stores
        products = stores_cfg.products
        depth = stores_cfg.mean_stock_units * np.sqrt(popularity(products) * products)
        self.stores = stores
        lam = np.broadcast_to(depth, (len(stores), products))
        self.opening = streams.poisson(
            lam, Purpose.STOCK, stores[:, None], np.arange(products)[None, :]
        ).astype(np.int32)
        self.level = self.opening.copy()
        self.day = 0

    def row(self, store: int) -> int:
        return int(np.searchsorted(self.stores, store))

    def take(self, store: int, product: int, quantity: int) -> bool:
        """Take units off the shelf; False (and nothing taken) when there are not enough."""
        r = self.row(store)
        if self.level[r, product] < quantity:
            return False
        self.level[r, product] -= quantity
        return True

    def has(
        self, stores: np.ndarray, products: np.ndarray, quantity: np.ndarray, *, live: bool
    ) -> np.ndarray:
        """What the channels can see: live levels (omnichannel) or this morning's (cross-channel)."""
        levels = self.level if live else self.opening
        return levels[np.searchsorted(self.stores, stores), products] >= quantity

    def restock(self, day: int) -> None:
        if day != self.day:
            self.level[:] = self.opening
            self.day = day
