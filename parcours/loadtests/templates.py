"""Request templates: ``"/carts/{visible_id}/items"`` and JSON bodies filled from an event's fields.

A template is compiled once into a small callable that reads one row of a chunk of columns, so filling
it costs a format call, not a parse. Placeholders name event fields (``{product_id}``) or environment
variables (``{env.API_TOKEN}``, read when the mapping is loaded). In text (paths, headers, strings
with text around a placeholder) a null field cannot be written: the event is skipped and counted. A
body value that is a placeholder alone keeps the field's type (an int stays an int, null is null).
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from parcours.output.schema import EVENT_SCHEMA

#: One row's worth of columns: field name -> Python values of the chunk.
Columns = Mapping[str, Sequence[Any]]
TextFn = Callable[[Columns, int], str]
ValueFn = Callable[[Columns, int], Any]

#: Fields a template may use: the event columns plus two spellings of the timestamp.
DERIVED_FIELDS = ("ts_ms", "ts_iso")
FIELDS: tuple[str, ...] = tuple(EVENT_SCHEMA.names) + DERIVED_FIELDS
ENV_PREFIX = "env."


class NullField(Exception):
    """A text template met a null field: the event cannot be turned into this request."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def placeholders(template: str) -> list[str]:
    """The placeholder names of a text template, in order; ValueError when it is malformed."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if name == "env" and spec:
            raise ValueError(f"{{env:{spec}}}: write {{env.{spec}}} for an environment variable")
        if spec or conversion:
            raise ValueError(f"{{{name}}}: format specs and conversions are not supported")
        if not name:
            raise ValueError("empty placeholder {}; write {{ and }} for literal braces")
        names.append(name)
    return names


def check_text(template: str) -> str:
    """Validate a text template's placeholders: known fields, or env. followed by a variable name."""
    for name in placeholders(template):
        if name.startswith(ENV_PREFIX):
            if not name[len(ENV_PREFIX) :].isidentifier():
                raise ValueError(f"{{{name}}}: not an environment variable name")
        elif name not in FIELDS:
            raise ValueError(f"unknown field {{{name}}} (fields: {', '.join(FIELDS)})")
    return template


def check_json(value: Any) -> Any:
    """Validate every string of a JSON body template."""
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for item in value.values():
            check_json(item)
    elif isinstance(value, list):
        for item in value:
            check_json(item)
    return value


def missing_env(template: str, environ: Mapping[str, str]) -> list[str]:
    return [
        n[len(ENV_PREFIX) :]
        for n in placeholders(template)
        if n.startswith(ENV_PREFIX) and n[len(ENV_PREFIX) :] not in environ
    ]


def fields_of(value: Any) -> set[str]:
    """Event fields a text or JSON template reads."""
    if isinstance(value, str):
        return {n for n in placeholders(value) if not n.startswith(ENV_PREFIX)}
    if isinstance(value, dict):
        return set().union(*(fields_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(fields_of(v) for v in value))
    return set()


def _escape(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


def compile_text(template: str, *, url: bool = False, environ: Mapping[str, str] | None = None) -> TextFn:
    """A callable filling ``template`` from row ``i``; values are percent-encoded when ``url``."""
    env = os.environ if environ is None else environ
    fmt: list[str] = []
    names: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        fmt.append(_escape(literal))
        if name is None:
            continue
        if name.startswith(ENV_PREFIX):
            fmt.append(_escape(env[name[len(ENV_PREFIX) :]]))
        else:
            fmt.append(f"{{{len(names)}}}")
            names.append(name)
    pattern = "".join(fmt)
    if not names:
        return lambda cols, i: pattern

    def fill(cols: Columns, i: int) -> str:
        values = [cols[n][i] for n in names]
        for n, v in zip(names, values, strict=True):
            if v is None:
                raise NullField(n)
        if url:
            values = [quote(str(v), safe="") for v in values]
        return pattern.format(*values)

    return fill


def compile_json(template: Any, environ: Mapping[str, str] | None = None) -> ValueFn:
    """A callable building the JSON value of row ``i`` from a body template."""
    if isinstance(template, dict):
        items = [(key, compile_json(v, environ)) for key, v in template.items()]
        return lambda cols, i: {key: fn(cols, i) for key, fn in items}
    if isinstance(template, list):
        elements = [compile_json(v, environ) for v in template]
        return lambda cols, i: [fn(cols, i) for fn in elements]
    if isinstance(template, str):
        parsed = list(string.Formatter().parse(template))
        if (
            len(parsed) == 1
            and parsed[0][0] == ""
            and parsed[0][1]
            and not parsed[0][1].startswith(ENV_PREFIX)
        ):
            column = parsed[0][1]
            return lambda cols, i: cols[column][i]
        return compile_text(template, environ=environ)
    return lambda cols, i: template
