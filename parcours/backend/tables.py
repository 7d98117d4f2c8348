"""The reference backend's tables (SQLite), and which of them GET /stats and /metrics count."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts(account_id TEXT PRIMARY KEY, created REAL NOT NULL,
    logins INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS identities(visible_id TEXT PRIMARY KEY, account_id TEXT, channel TEXT,
    first_seen REAL NOT NULL, linked REAL);
CREATE TABLE IF NOT EXISTS sessions(session_id INTEGER PRIMARY KEY, visible_id TEXT NOT NULL,
    channel TEXT NOT NULL, opened REAL NOT NULL, closed REAL);
CREATE TABLE IF NOT EXISTS cart_items(cart_id TEXT NOT NULL, product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL, PRIMARY KEY(cart_id, product_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stock(store_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL, PRIMARY KEY(store_id, product_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders(order_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    channel TEXT NOT NULL, store_id INTEGER, product_id INTEGER, quantity INTEGER NOT NULL,
    amount_cents INTEGER, fulfilment TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders(customer, product_id, status);
CREATE TABLE IF NOT EXISTS notifications(notification_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    order_id INTEGER NOT NULL, kind TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS returns(return_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    order_id INTEGER, kind TEXT NOT NULL, store_id INTEGER, product_id INTEGER, amount_cents INTEGER,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS contacts(contact_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    channel TEXT NOT NULL, kind TEXT NOT NULL, wait_s REAL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS store_visits(visit_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    store_id INTEGER NOT NULL, kind TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS clicks(click_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
    campaign_id INTEGER, channel TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events(row_id INTEGER PRIMARY KEY, event_id INTEGER, visible_id TEXT,
    channel TEXT, event_type TEXT, ts TEXT, received REAL NOT NULL);
"""

#: What GET /stats and /metrics count: one table each.
ENTITIES = (
    "accounts", "identities", "sessions", "cart_items", "stock", "orders", "notifications", "returns",
    "contacts", "store_visits", "clicks", "events",
)  # fmt: skip
