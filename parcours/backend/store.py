"""The reference backend's state in SQLite: profiles and identities, sessions, carts, stock, orders,
returns, service contacts, store visits, message clicks and ingested events.

One connection, used only from the server's event loop: every call is a few indexed statements, far
shorter than handing it to a thread. Writes go into an open transaction that ``commit`` closes; the
app commits every ``COMMIT_EVERY_S`` and on shutdown (group commit), so a crash loses at most that
much and a restart finds everything committed. WAL with ``synchronous=NORMAL``: a commit appends to the
log without waiting for the disk; the database file itself is never left corrupt.

Customers are known by what a channel shows (``visible_id``: a device or cookie id, or an account id).
A login links the session's device to the account; from then on the device resolves to the account.
Whether carts follow the account depends on the integration level (``omnichannel`` only).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parcours.backend.tables import ENTITIES, SCHEMA
from parcours.vocabulary import IntegrationLevel

COMMIT_EVERY_S = 0.05
#: Stock a store holds of a product before anything was sold: a plain assumption of the reference
#: backend (not calibrated), varied by product and store so that stock checks differ.
INITIAL_STOCK = 20

ORDER_STATUSES = ("placed", "ready", "collected", "delivered", "cancelled")
#: Status changes an order may go through (anything else is refused with 409).
TRANSITIONS = {
    "placed": {"ready", "delivered", "cancelled"},
    "ready": {"collected", "cancelled"},
    "collected": set(),
    "delivered": set(),
    "cancelled": set(),
}
IN_STORE_CHANNELS = frozenset({"store"})


class NotFound(Exception):
    """The request names something the store does not hold: answered 404."""


class Conflict(Exception):
    """The request cannot apply to the current state (an order status change out of turn): 409."""


@dataclass(frozen=True)
class Cart:
    cart_id: str
    items: int
    products: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"cart_id": self.cart_id, "items": self.items, "products": self.products}


def initial_stock(store_id: int, product_id: int) -> int:
    return INITIAL_STOCK + (product_id * 7 + store_id * 3) % 31


class Store:
    """The repository: every method is one use case, reading and writing through one connection."""

    def __init__(self, path: str | Path, level: IntegrationLevel = IntegrationLevel.OMNICHANNEL) -> None:
        self.path = str(path)
        self.level = IntegrationLevel(level)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level="DEFERRED")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('level', ?)", (self.level.value,))
        self.db.commit()
        self.dirty = False

    # -- transactions ---------------------------------------------------------------------------

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        self.dirty = True
        return self.db.execute(sql, args)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def commit(self) -> None:
        if self.dirty:
            self.db.commit()
            self.dirty = False

    def rollback(self) -> None:
        self.db.rollback()
        self.dirty = False

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.db.close()

    # -- identity -------------------------------------------------------------------------------

    def seen(self, visible_id: str, channel: str | None) -> None:
        self._write(
            "INSERT OR IGNORE INTO identities(visible_id, channel, first_seen) VALUES (?, ?, ?)",
            (visible_id, channel, time.time()),
        )

    def account_of(self, visible_id: str) -> str | None:
        """The account a visible id belongs to: its link, or itself when it is an account."""
        linked = self._one("SELECT account_id FROM identities WHERE visible_id = ?", (visible_id,))
        if linked is not None:
            return str(linked)
        known = self._one("SELECT 1 FROM accounts WHERE account_id = ?", (visible_id,))
        return visible_id if known else None

    def customer(self, visible_id: str) -> str:
        """Whom orders, returns and contacts are filed under: the account when known, else the id."""
        return self.account_of(visible_id) or visible_id

    def owner(self, visible_id: str, account_id: str | None) -> str:
        """Whom an order (or its pick-up, or a return) belongs to: on linked levels the account the
        customer gives (an order confirmation, a receipt), else what the channel sees."""
        if account_id and self.level is not IntegrationLevel.MULTICHANNEL:
            return account_id
        return self.customer(visible_id)

    def login(self, session_id: int | None, visible_id: str, account_id: str, channel: str) -> dict[str, Any]:
        """Open (or find) the account; on linked levels, link the device and the session's id to it."""
        now = time.time()
        self._write("INSERT OR IGNORE INTO accounts(account_id, created) VALUES (?, ?)", (account_id, now))
        self._write("UPDATE accounts SET logins = logins + 1 WHERE account_id = ?", (account_id,))
        ids = {visible_id}
        if session_id is not None:
            device = self._one("SELECT visible_id FROM sessions WHERE session_id = ?", (session_id,))
            if device is not None:
                ids.add(str(device))
        ids.discard(account_id)
        linked: list[str] = []
        if self.level is not IntegrationLevel.MULTICHANNEL:
            for vid in sorted(ids):
                self.seen(vid, channel)
                self._write(
                    "UPDATE identities SET account_id = ?, linked = ? WHERE visible_id = ?",
                    (account_id, now, vid),
                )
                linked.append(vid)
        return {"account": account_id, "linked": linked}

    def profile(self, visible_id: str) -> dict[str, Any]:
        account = self.account_of(visible_id)
        known = self._one("SELECT 1 FROM identities WHERE visible_id = ?", (visible_id,))
        if account is None and not known:
            raise NotFound(f"no customer is known as {visible_id!r}")
        key = account or visible_id
        rows = self.db.execute("SELECT visible_id FROM identities WHERE account_id = ?", (key,))
        ids = [r[0] for r in rows]
        orders = self._one("SELECT COUNT(*) FROM orders WHERE customer = ?", (key,))
        return {"customer": key, "account": account, "identities": ids, "orders": int(orders)}

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, visible_id: str, channel: str) -> dict[str, Any]:
        self.seen(visible_id, channel)
        cur = self._write(
            "INSERT INTO sessions(visible_id, channel, opened) VALUES (?, ?, ?)",
            (visible_id, channel, time.time()),
        )
        return {"session": cur.lastrowid, "account": self.account_of(visible_id)}

    def close_session(self, session_id: int) -> bool:
        cur = self._write(
            "UPDATE sessions SET closed = ? WHERE session_id = ? AND closed IS NULL",
            (time.time(), session_id),
        )
        return cur.rowcount == 1

    # -- carts ----------------------------------------------------------------------------------

    def cart_id(self, visible_id: str) -> str:
        """The cart follows the account everywhere only in omnichannel; otherwise each id has its own."""
        if self.level is IntegrationLevel.OMNICHANNEL:
            return self.customer(visible_id)
        return visible_id

    def cart(self, visible_id: str) -> Cart:
        cart_id = self.cart_id(visible_id)
        rows = self.db.execute(
            "SELECT product_id, quantity FROM cart_items WHERE cart_id = ? ORDER BY product_id", (cart_id,)
        ).fetchall()
        return Cart(cart_id, sum(q for _, q in rows), [p for p, _ in rows])

    def cart_add(self, visible_id: str, product_id: int, quantity: int) -> Cart:
        self.seen(visible_id, None)
        self._write(
            "INSERT INTO cart_items VALUES (?, ?, ?) "
            "ON CONFLICT(cart_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
            (self.cart_id(visible_id), product_id, quantity),
        )
        return self.cart(visible_id)

    def cart_remove(self, visible_id: str, product_id: int) -> Cart:
        cur = self._write(
            "DELETE FROM cart_items WHERE cart_id = ? AND product_id = ?",
            (self.cart_id(visible_id), product_id),
        )
        if cur.rowcount == 0:
            raise NotFound(f"product {product_id} is not in the cart")
        return self.cart(visible_id)

    def checkout(self, visible_id: str) -> Cart:
        """What the cart held; it is emptied (the order that follows says what was bought)."""
        cart = self.cart(visible_id)
        self._write("DELETE FROM cart_items WHERE cart_id = ?", (cart.cart_id,))
        return cart

    # -- stock and orders -----------------------------------------------------------------------

    def stock(self, product_id: int, store_id: int) -> int:
        held = self._one(
            "SELECT quantity FROM stock WHERE store_id = ? AND product_id = ?", (store_id, product_id)
        )
        return initial_stock(store_id, product_id) if held is None else int(held)

    def take_stock(self, store_id: int, product_id: int, quantity: int) -> None:
        left = max(0, self.stock(product_id, store_id) - quantity)
        self._write("INSERT OR REPLACE INTO stock VALUES (?, ?, ?)", (store_id, product_id, left))

    def place_order(
        self,
        visible_id: str,
        channel: str,
        store_id: int | None,
        product_id: int | None,
        quantity: int,
        amount_cents: int | None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Bought in store: collected at once, from the store's stock. Elsewhere: placed, to deliver
        or to collect (an ``order_ready`` at a store makes it click & collect). On linked levels an
        order given an account is filed under it; in silos, under what the channel sees."""
        customer = self.owner(visible_id, account_id)
        in_store = channel in IN_STORE_CHANNELS and store_id is not None
        fulfilment, status = ("in_store", "collected") if in_store else ("delivery", "placed")
        if in_store and product_id is not None and store_id is not None:
            self.take_stock(store_id, product_id, quantity)
        self.seen(visible_id, channel)
        now = time.time()
        cur = self._write(
            "INSERT INTO orders(customer, channel, store_id, product_id, quantity, amount_cents, fulfilment,"
            " status, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (customer, channel, store_id, product_id, quantity, amount_cents, fulfilment, status, now, now),
        )  # fmt: skip
        assert cur.lastrowid is not None
        return self.order(cur.lastrowid)

    def order(self, order_id: int) -> dict[str, Any]:
        cur = self.db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no order {order_id}")
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def set_status(self, order_id: int, status: str) -> dict[str, Any]:
        current = self.order(order_id)["status"]
        if status not in TRANSITIONS[current]:
            raise Conflict(f"order {order_id} is {current}; it cannot become {status}")
        self._write(
            "UPDATE orders SET status = ?, updated = ? WHERE order_id = ?", (status, time.time(), order_id)
        )
        return self.order(order_id)

    def _open_order(self, customer: str, product_id: int | None, statuses: tuple[str, ...]) -> int | None:
        marks = ",".join("?" * len(statuses))
        found = self._one(
            f"SELECT order_id FROM orders WHERE customer = ? AND product_id IS ? AND status IN ({marks}) "
            "ORDER BY order_id DESC LIMIT 1",
            (customer, product_id, *statuses),
        )
        return None if found is None else int(found)

    def order_ready(
        self, visible_id: str, store_id: int | None, product_id: int | None, account_id: str | None = None
    ) -> dict[str, Any]:
        """The store prepared the customer's order of this product: it becomes click & collect, ready,
        and the customer is notified. ``order_id`` is null when no placed order matches."""
        customer = self.owner(visible_id, account_id)
        order_id = self._open_order(customer, product_id, ("placed",))
        if order_id is None:
            return {"order_id": None, "status": None, "notification_id": None}
        now = time.time()
        self._write(
            "UPDATE orders SET status = 'ready', fulfilment = 'click_collect', updated = ?,"
            " store_id = COALESCE(?, store_id) WHERE order_id = ?",
            (now, store_id, order_id),
        )
        cur = self._write(
            "INSERT INTO notifications(customer, order_id, kind, created) VALUES (?, ?, 'ready', ?)",
            (customer, order_id, now),
        )
        return {"order_id": order_id, "status": "ready", "notification_id": cur.lastrowid}

    def pickup(
        self, visible_id: str, store_id: int, product_id: int | None, account_id: str | None = None
    ) -> dict[str, Any]:
        """The customer collects at the store: the latest ready (or placed) order of that product."""
        customer = self.owner(visible_id, account_id)
        order_id = self._open_order(customer, product_id, ("ready", "placed"))
        if order_id is None:
            return {"order_id": None, "status": None}
        self._write(
            "UPDATE orders SET status = 'collected', fulfilment = 'click_collect', store_id = ?, updated = ?"
            " WHERE order_id = ?",
            (store_id, time.time(), order_id),
        )
        return {"order_id": order_id, "status": "collected"}

    def add_return(
        self,
        visible_id: str,
        kind: str,
        store_id: int | None,
        product_id: int | None,
        amount: int | None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """A return or exchange, filed against the customer's latest order of that product (if any)."""
        customer = self.owner(visible_id, account_id)
        order_id = self._one(
            "SELECT order_id FROM orders WHERE customer = ? AND product_id IS ? AND status != 'cancelled' "
            "ORDER BY order_id DESC LIMIT 1",
            (customer, product_id),
        )
        cur = self._write(
            "INSERT INTO returns(customer, order_id, kind, store_id, product_id, amount_cents, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (customer, order_id, kind, store_id, product_id, amount, time.time()),
        )
        return {"return_id": cur.lastrowid, "order_id": order_id}

    # -- everything else that is only recorded ---------------------------------------------------

    def add_contact(self, visible_id: str, channel: str, kind: str, wait_s: float | None) -> dict[str, Any]:
        cur = self._write(
            "INSERT INTO contacts(customer, channel, kind, wait_s, created) VALUES (?, ?, ?, ?, ?)",
            (self.customer(visible_id), channel, kind, wait_s, time.time()),
        )
        return {"contact_id": cur.lastrowid}

    def add_visit(self, visible_id: str, store_id: int, kind: str) -> dict[str, Any]:
        self.seen(visible_id, "store")
        account = self.account_of(visible_id)
        self._write(
            "INSERT INTO store_visits(customer, store_id, kind, created) VALUES (?, ?, ?, ?)",
            (account or visible_id, store_id, kind, time.time()),
        )
        return {"account": account}

    def add_click(self, visible_id: str, campaign_id: int | None, channel: str) -> dict[str, Any]:
        self._write(
            "INSERT INTO clicks(customer, campaign_id, channel, created) VALUES (?, ?, ?, ?)",
            (self.customer(visible_id), campaign_id, channel, time.time()),
        )
        return {"account": self.account_of(visible_id)}

    def ingest(self, events: list[dict[str, Any]]) -> int:
        now = time.time()
        self.dirty = True
        self.db.executemany(
            "INSERT INTO events(event_id, visible_id, channel, event_type, ts, received)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(e.get("event_id"), e.get("visible_id"), e.get("channel"), e.get("event_type"), e.get("ts"), now)
             for e in events],
        )  # fmt: skip
        return len(events)

    def counts(self) -> dict[str, int]:
        return {t: int(self._one(f"SELECT COUNT(*) FROM {t}")) for t in ENTITIES}

    def open_sessions(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM sessions WHERE closed IS NULL"))
