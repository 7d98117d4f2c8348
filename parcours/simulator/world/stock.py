"""Stock per store and product: runs out as customers buy, replenished overnight.

Each store orders for the ordinary day it expects (the forecast, as staffing does): each morning a
product's stock is a shelf minimum plus a Poisson draw around ``stock_cover_days`` days of its expected
store sales on that day of the week (Saturday, the busiest, gets more). Best-sellers run deep, the
long tail holds a unit or two; a busier day than forecast, a run of buyers or a product ordered short
empties a shelf. The cover is calibrated so that about 8% of
store purchase attempts meet an empty shelf on an ordinary day, the worldwide average of Gruen,
Corsten & Bharadwaj (2002, GMA); because it scales with the forecast, the rate holds whatever the
demand model.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from parcours.simulator.model.inputs import Model
from parcours.simulator.model.rng import Purpose, Streams
from parcours.simulator.plan.sessions import popularity
from parcours.simulator.world.forecast import Forecast, day_type


def daily_store_units(model: Model, plan_for: Forecast) -> np.ndarray:
    """Expected units bought in store per customer, by day type (Monday-Friday, Saturday, Sunday)."""
    buys = plan_for.per_customer["store_buys"].sum(axis=1)
    return buys * float(np.dot(model.shares, model.tables["mean_items"]))


class Stock:
    """Each morning a store's shelves hold what it ordered for that day type (Saturday is busier)."""

    def __init__(
        self, model: Model, streams: Streams, stores: np.ndarray, customers: np.ndarray, plan_for: Forecast
    ) -> None:
        cfg = model.scenario.stores
        self.model, self.streams, self.stores = model, streams, stores
        self._rows = {store: row for row, store in enumerate(stores.tolist())}
        self.share = popularity(cfg.products)
        self.per_store = daily_store_units(model, plan_for)[None, :] * customers.astype(np.float64)[:, None]
        self.day = -1
        self.opening = np.zeros((len(stores), cfg.products), np.int32)
        self.level = self.opening
        self.restock(0)

    def row(self, store: int) -> int:
        return self._rows[store]

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
        """Overnight: shelves filled for the day's expected sales (a fresh delivery each day)."""
        if day == self.day:
            return
        cfg = self.model.scenario.stores
        weekday = (self.model.scenario.calendar.start + dt.timedelta(days=day)).weekday()
        lam = cfg.stock_cover_days * self.per_store[:, day_type(weekday), None] * self.share[None, :]
        keys = (self.stores[:, None], np.arange(cfg.products)[None, :])
        drawn = (
            self.streams.poisson(lam, Purpose.STOCK, *keys)
            if day == 0
            else (self.streams.poisson(lam, Purpose.STOCK, *keys, day))
        )
        self.opening = (cfg.shelf_minimum_units + drawn).astype(np.int32)
        self.level = self.opening.copy()
        self.day = day
