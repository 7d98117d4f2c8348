"""The reference backend's HTTP API (FastAPI): one small function per route, the state in ``Store``.

Handlers are ``async`` and call the store directly: each call is a few indexed SQLite statements on
the loop's one connection, cheaper than a hop to a thread; a background task commits every
``COMMIT_EVERY_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Body, Cookie, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from parcours import __version__
from parcours.backend import schemas as s
from parcours.backend.guard import Guard, Limits
from parcours.backend.metrics import Metrics
from parcours.backend.statuses import documented
from parcours.backend.store import COMMIT_EVERY_S, Conflict, NotFound, Store

VisibleId = Annotated[str, Path(min_length=1, max_length=s.MAX_TEXT)]
ProductId = Annotated[int, Path(ge=0, le=s.MAX_ID)]
StoreId = Annotated[int, Path(ge=0, le=s.MAX_ID)]
OrderId = Annotated[int, Path(ge=1, le=s.MAX_ID)]  # routes say {order_id:int}: /orders/ready is another
SessionCookie = Annotated[str | None, Cookie()]  # any text: one that names no session is none
Events = Annotated[s.EventIn | Annotated[list[s.EventIn], Body(max_length=100_000)], Body()]


def _session_id(sid: str | None) -> int | None:
    """The session a ``sid`` cookie names (``s123``); None for anything else, however odd."""
    if not sid or not sid.startswith("s") or not sid[1:].isascii() or not sid[1:].isdigit():
        return None
    number = int(sid[1:])
    return number if number <= s.MAX_ID else None


def _lifespan(store: Store, on_ready: Callable[[], None] | None) -> Callable[[FastAPI], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def commit_often() -> None:
            while True:
                await asyncio.sleep(COMMIT_EVERY_S)
                try:
                    store.commit()
                except sqlite3.Error as exc:  # a full disk: what waited is lost, as in a crash
                    logging.getLogger("parcours.backend").error("commit failed, rolled back: %s", exc)
                    store.rollback()

        task = asyncio.create_task(commit_often())
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            task.cancel()
            store.close()

    return lifespan


def create_app(
    store: Store,
    *,
    limits: Limits | None = None,
    token: str | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Guard:
    """The ASGI application: the API behind the guard (token, limits, metrics)."""
    metrics = Metrics()
    api = FastAPI(
        title="parcours reference backend",
        version=__version__,
        description="A small cross-channel retailer: identities, sessions, carts, stock, orders, returns, "
        "service contacts, message clicks and an event collector, stored in SQLite.",
        lifespan=_lifespan(store, on_ready),
    )
    api.openapi = documented(api.openapi)  # type: ignore[method-assign]
    _errors(api)
    _identity_routes(api, store)
    _cart_routes(api, store)
    _order_routes(api, store)
    _record_routes(api, store)
    _ops_routes(api, store, metrics)
    return Guard(api, limits or Limits(), token, metrics)


def _errors(api: FastAPI) -> None:
    @api.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @api.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        """The router's own answers (404 no such path, 405 wrong method), as JSON like every other; a
        405's Allow lists the methods of every route of the path (Starlette names the first's alone)."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            path = request.url.path
            routes = [r for r in api.routes if isinstance(r, APIRoute) and r.path_regex.match(path)]
            headers["Allow"] = ", ".join(sorted({m for r in routes for m in r.methods or ()}))
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @api.exception_handler(sqlite3.OperationalError)
    async def storage(request: Request, exc: sqlite3.OperationalError) -> JSONResponse:
        """A full disk (or database) is the server's trouble, said plainly, not a 500 with a traceback."""
        full = "full" in str(exc)
        reason = "the database is full" if full else "the database cannot be written"
        return JSONResponse({"error": f"{reason} ({exc}); nothing was stored"}, status_code=503)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {"error": f"{where}: {first.get('msg', 'invalid')}", "detail": jsonable(exc.errors())},
            status_code=422,
        )


def jsonable(errors: Any) -> Any:
    """Validation errors without the exception objects pydantic keeps in ``ctx``."""
    return [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in errors]


def _identity_routes(api: FastAPI, store: Store) -> None:
    @api.post("/sessions", status_code=201, tags=["identity"])
    async def open_session(body: s.SessionIn, response: Response) -> dict[str, Any]:
        """A session opens on a channel; the answer sets the ``sid`` cookie and says whom it recognises."""
        out = store.open_session(body.visible_id, body.channel)
        response.set_cookie("sid", f"s{out['session']}", httponly=True)
        return out

    @api.delete("/sessions/current", tags=["identity"])
    async def close_session(sid: SessionCookie = None) -> dict[str, Any]:
        """Close the session of the ``sid`` cookie; ``closed`` is false when there was none open."""
        session = _session_id(sid)
        return {"closed": session is not None and store.close_session(session)}

    @api.post("/identity/login", tags=["identity"])
    async def login(body: s.LoginIn, sid: SessionCookie = None) -> dict[str, Any]:
        """Log in to an account; on linked levels the device (and the session's id) join the account."""
        account = body.account_id or body.visible_id
        return store.login(_session_id(sid), body.visible_id, account, body.channel)

    @api.get("/customers/{visible_id}", tags=["identity"])
    async def profile(visible_id: VisibleId) -> dict[str, Any]:
        """Whom a visible id belongs to: the account, its linked ids, the number of orders."""
        return store.profile(visible_id)


def _cart_routes(api: FastAPI, store: Store) -> None:
    @api.get("/carts/{visible_id}", tags=["carts"])
    async def cart(visible_id: VisibleId) -> dict[str, Any]:
        return store.cart(visible_id).as_dict()

    @api.post("/carts/{visible_id}/items", status_code=201, tags=["carts"])
    async def cart_add(visible_id: VisibleId, body: s.CartItemIn) -> dict[str, Any]:
        return store.cart_add(visible_id, body.product_id, body.quantity).as_dict()

    @api.delete("/carts/{visible_id}/items/{product_id}", tags=["carts"])
    async def cart_remove(visible_id: VisibleId, product_id: ProductId) -> dict[str, Any]:
        return store.cart_remove(visible_id, product_id).as_dict()

    @api.post("/carts/{visible_id}/checkout", tags=["carts"])
    async def checkout(visible_id: VisibleId) -> dict[str, Any]:
        """What the cart held, whichever channel filled it; the cart is emptied."""
        return store.checkout(visible_id).as_dict()


def _order_routes(api: FastAPI, store: Store) -> None:
    @api.get("/products/{product_id}", tags=["catalogue"])
    async def product(product_id: ProductId) -> dict[str, Any]:
        return {"product_id": product_id}

    @api.get("/products/{product_id}/stock", tags=["catalogue"])
    async def stock(
        product_id: ProductId, store_id: Annotated[int, Query(ge=0, le=s.MAX_ID)] = 0
    ) -> dict[str, Any]:
        """Stock of a product at a store (store 0 when none is named)."""
        return {"product_id": product_id, "store_id": store_id, "quantity": store.stock(product_id, store_id)}

    @api.post("/orders", status_code=201, tags=["orders"])
    async def place_order(body: s.OrderIn) -> dict[str, Any]:
        b = body
        return store.place_order(
            b.visible_id, b.channel, b.store_id, b.product_id, b.quantity or 1, b.amount_cents, b.account_id
        )

    @api.get("/orders/{order_id:int}", tags=["orders"])
    async def order(order_id: OrderId) -> dict[str, Any]:
        return store.order(order_id)

    @api.patch("/orders/{order_id:int}", tags=["orders"])
    async def set_status(order_id: OrderId, body: s.StatusIn) -> dict[str, Any]:
        """Move an order on: placed -> ready -> collected, placed -> delivered, or cancelled (else 409)."""
        return store.set_status(order_id, body.status)

    @api.post("/orders/ready", tags=["orders"])
    async def order_ready(body: s.OrderEventIn) -> dict[str, Any]:
        """The store prepared the customer's order: it becomes click & collect, and a notification goes."""
        return store.order_ready(body.visible_id, body.store_id, body.product_id, body.account_id)

    @api.post("/stores/{store_id}/pickups", tags=["orders"])
    async def pickup(store_id: StoreId, body: s.PickupIn) -> dict[str, Any]:
        """The customer collects at the store the order placed elsewhere."""
        return store.pickup(body.visible_id, store_id, body.product_id, body.account_id)

    @api.post("/returns", status_code=201, tags=["orders"])
    async def add_return(body: s.ReturnIn) -> dict[str, Any]:
        """A return or exchange; ``order_id`` is the order it refers to (null when none matches)."""
        b = body
        return store.add_return(b.visible_id, b.kind, b.store_id, b.product_id, b.amount_cents, b.account_id)


def _record_routes(api: FastAPI, store: Store) -> None:
    @api.get("/pages/{channel}", tags=["catalogue"])
    async def page(channel: Annotated[str, Path(max_length=s.MAX_TEXT)]) -> dict[str, Any]:
        return {"page": channel}

    @api.get("/search", tags=["catalogue"])
    async def search(q: Annotated[str, Query(max_length=s.MAX_TEXT)] = "") -> dict[str, Any]:
        return {"query": q, "results": []}

    @api.post("/stores/{store_id}/visits", status_code=201, tags=["stores"])
    async def visit(store_id: StoreId, body: s.VisitIn) -> dict[str, Any]:
        """A store visit; ``account`` is whom the store recognises (a card, a linked account)."""
        return store.add_visit(body.visible_id, store_id, body.kind)

    @api.post("/service/contacts", status_code=201, tags=["service"])
    async def contact(body: s.ContactIn) -> dict[str, Any]:
        return store.add_contact(body.visible_id, body.channel, body.kind, body.wait_s)

    @api.post("/messages/clicks", status_code=201, tags=["messages"])
    async def click(body: s.ClickIn) -> dict[str, Any]:
        return store.add_click(body.visible_id, body.campaign_id, body.channel)

    @api.post("/ingest", status_code=202, tags=["events"])
    async def ingest(events: Events) -> dict[str, Any]:
        """Any other event (or a JSON array of them), kept as received."""
        rows = [e.row() for e in (events if isinstance(events, list) else [events])]
        return {"accepted": store.ingest(rows)}


def _ops_routes(api: FastAPI, store: Store, metrics: Metrics) -> None:
    @api.get("/health", tags=["operations"])
    async def health() -> dict[str, Any]:
        return {"ok": True, "level": store.level.value}

    @api.get("/stats", tags=["operations"])
    async def stats() -> dict[str, Any]:
        """Rows stored per entity, open sessions, requests answered since start."""
        return {
            "level": store.level.value,
            "entities": store.counts(),
            "open_sessions": store.open_sessions(),
            "requests": metrics.total,
        }

    @api.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    async def prometheus() -> PlainTextResponse:
        text = metrics.text(store.counts(), {"open_sessions": store.open_sessions()})
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
