"""Stock per store and product: runs out as customers buy, replenished overnight.

Each store orders for the ordinary day it expects (the forecast, as staffing does): a product's
opening stock is a shelf minimum plus a Poisson draw around ``stock_cover_days`` days of its expected
store sales. Best-sellers run deep, the long tail holds a unit or two; a busier day than forecast, a
run of buyers or a product ordered short empties a shelf. The cover is calibrated so that about 8% of
store purchase attempts meet an empty shelf on an ordinary day, the worldwide average of Gruen,
Corsten & Bharadwaj (2002, GMA); because it scales with the forecast, the rate holds whatever the
demand model.
"""

from __future__ import annotations

import numpy as np

from parcours.simulator.forecast import forecast
from parcours.simulator.model import Model
from parcours.simulator.plan import popularity
from parcours.simulator.rng import Purpose, Streams


def daily_store_units(model: Model) -> float:
    """Expected units bought in store per customer on an ordinary weekday."""
    buys = float(forecast(model.scenario).per_customer["store_buys"][0].sum())
    return buys * float(np.dot(model.shares, model.tables["mean_items"]))


class Stock:
    def __init__(self, model: Model, streams: Streams, stores: np.ndarray, customers: np.ndarray) -> None:
        cfg = model.scenario.stores
        share = popularity(cfg.products)
        per_store = daily_store_units(model) * customers.astype(np.float64)
        lam = cfg.stock_cover_days * per_store[:, None] * share[None, :]
        self.stores = stores
        drawn = streams.poisson(lam, Purpose.STOCK, stores[:, None], np.arange(cfg.products)[None, :])
        self.opening = (cfg.shelf_minimum_units + drawn).astype(np.int32)
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
