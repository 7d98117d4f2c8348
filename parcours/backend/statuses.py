"""Every status each route of the reference backend can answer, in its OpenAPI description.

FastAPI lists a route's success and, where it validates input, 422; the rest are answered elsewhere:
the guard before every route (400, 401 with a token, 411, 413, 415, 431), Starlette's router (405 for
a method the path does not take), the store (404, 409) and the database (503 when it is full). This
adds them to the description, each with the JSON error body every one of them carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
#: What the guard and the router may answer on any route.
EVERY_ROUTE = {
    400: "Content-Length is not a number",
    401: "No valid token (only when the backend runs with --token)",
    405: "A method this path does not take",
    411: "A body without a Content-Length",
    413: "A body over --max-body-kb",
    415: "A body that is not JSON",
    431: "Headers over 16 KiB",
}
NOT_FOUND = {
    ("get", "/customers/{visible_id}"),
    ("delete", "/carts/{visible_id}/items/{product_id}"),
    ("get", "/orders/{order_id}"),
    ("patch", "/orders/{order_id}"),
}
CONFLICT = {("patch", "/orders/{order_id}")}
#: Routes that never touch the database, so never find it full.
NO_STORE = {"/health", "/metrics", "/products/{product_id}", "/pages/{channel}", "/search"}


def statuses(method: str, path: str, operation: dict[str, Any]) -> dict[int, str]:
    """The statuses besides those FastAPI lists, for one operation."""
    out = dict(EVERY_ROUTE)
    if operation.get("parameters") or operation.get("requestBody"):
        out[422] = "A field, path or query parameter of the wrong type or out of range"
    if (method, path) in NOT_FOUND:
        out[404] = "Nothing of that id is stored"
    if (method, path) in CONFLICT:
        out[409] = "The order cannot move to that status from the one it has"
    if path not in NO_STORE:
        out[503] = "The database is full (or its disk failed): nothing was stored"
    return out


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add every status to every operation of an OpenAPI description (in place), and return it."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, text in statuses(method, path, operation).items():
                responses.setdefault(str(status), {"description": text, "content": error})
    return schema


def documented(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's ``app.openapi``, with every status added once."""
    done: dict[str, Any] = {}

    def build() -> dict[str, Any]:
        if not done:
            done.update(document(openapi()))
        return done

    return build
