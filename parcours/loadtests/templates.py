"""Request templates: ``"/carts/{visible_id}/items"`` and JSON bodies filled from an event's fields.

Placeholders name event fields (``{product_id}``) or environment variables (``{env.API_TOKEN}``, read
when the mapping is compiled). A body value that is a placeholder alone keeps the field's type (an int
stays an int, null is null); in text (paths, headers, strings with text around a placeholder) a null
cannot be written, so the event is skipped and counted.

Templates are filled a chunk of events at a time with Arrow compute, not one event at a time in
Python: a template compiles to pieces (literal text and field columns), each field becomes a string
column (JSON-quoted, percent-encoded or raw) and the pieces are joined row-wise in C++. The replay's
reading thread does this without holding the GIL, so the loop that sends requests only picks up the
finished strings.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.output.schema import EVENT_SCHEMA

#: Fields a template may use: the event columns, two spellings of the timestamp, and from the run's
#: ground truth (customers.parquet) the customer's account id: what they type to log in.
DERIVED_FIELDS = ("ts_ms", "ts_iso")
TRUTH_FIELDS = ("account_id",)
FIELDS: tuple[str, ...] = tuple(EVENT_SCHEMA.names) + DERIVED_FIELDS + TRUTH_FIELDS
ENV_PREFIX = "env."
OPTIONAL = "?"  # {env.NAME?}: empty when NAME is not set
_URL_SAFE = r"^[A-Za-z0-9_.~-]*$"
_NEEDS_JSON_ESCAPE = r"[\x00-\x1f\\\"]"
_CONTROL = r"[\r\n\x00]"

Mode = Literal["json", "json_text", "url", "text"]


@dataclass(frozen=True)
class Field:
    """A placeholder: ``json`` is a typed JSON value, ``json_text`` text inside a JSON string,
    ``url`` percent-encoded text, ``text`` text as it is."""

    name: str
    mode: Mode


Piece = str | Field


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
            if not name[len(ENV_PREFIX) :].removesuffix(OPTIONAL).isidentifier():
                raise ValueError(f"{{{name}}}: not an environment variable name")
        elif name not in FIELDS:
            raise ValueError(f"unknown field {{{name}}} (fields: {', '.join(FIELDS)})")
    return template


def check_json(value: Any) -> Any:
    """Validate every string of a JSON body template."""
    for text in strings(value):
        check_text(text)
    return value


def strings(value: Any) -> list[str]:
    """Every string in a JSON template, depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def missing_env(template: str, environ: Mapping[str, str]) -> list[str]:
    names = [
        n[len(ENV_PREFIX) :]
        for n in placeholders(template)
        if n.startswith(ENV_PREFIX) and not n.endswith(OPTIONAL)
    ]
    return [n for n in names if n not in environ]


def env_names(template: str) -> list[str]:
    """The environment variables a text template reads (``?`` removed)."""
    return [
        n[len(ENV_PREFIX) :].removesuffix(OPTIONAL)
        for n in placeholders(template)
        if n.startswith(ENV_PREFIX)
    ]


def fields_of(value: Any) -> set[str]:
    """Event fields a text or JSON template reads."""
    return {n for s in strings(value) for n in placeholders(s) if not n.startswith(ENV_PREFIX)}


# -- compiling to pieces ------------------------------------------------------------------------


def text_pieces(template: str, mode: Mode, environ: Mapping[str, str] | None = None) -> list[Piece]:
    """Literal text and fields of a text template; environment variables are read now."""
    env = os.environ if environ is None else environ
    pieces: list[Piece] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        pieces.append(literal)
        if name is None:
            continue
        if name.startswith(ENV_PREFIX):
            var = name[len(ENV_PREFIX) :]
            value = env.get(var.removesuffix(OPTIONAL), "") if var.endswith(OPTIONAL) else env[var]
            pieces.append(json.dumps(value)[1:-1] if mode == "json_text" else value)
        else:
            pieces.append(Field(name, mode))
    return _merged(pieces)


def json_pieces(template: Any, environ: Mapping[str, str] | None = None) -> list[Piece]:
    """The JSON text of a body template, as literal text and fields."""
    if isinstance(template, dict):
        pieces: list[Piece] = ["{"]
        for n, (key, value) in enumerate(template.items()):
            pieces += [("," if n else "") + json.dumps(key) + ":", *json_pieces(value, environ)]
        return _merged([*pieces, "}"])
    if isinstance(template, list):
        pieces = ["["]
        for n, value in enumerate(template):
            pieces += ["," if n else "", *json_pieces(value, environ)]
        return _merged([*pieces, "]"])
    if isinstance(template, str):
        names = placeholders(template)
        if len(names) == 1 and template == f"{{{names[0]}}}" and not names[0].startswith(ENV_PREFIX):
            return [Field(names[0], "json")]
        return _merged(['"', *text_pieces(template, "json_text", environ), '"'])
    return [json.dumps(template)]


def _merged(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return out


# -- filling a chunk at once --------------------------------------------------------------------


def column(batch: pa.RecordBatch, name: str) -> pa.Array:
    """A field of the batch, derived fields included."""
    if name in ("ts", "ts_ms"):
        return batch.column("ts").cast(pa.int64())
    if name == "ts_iso":
        return pc.strftime(batch.column("ts"), format="%Y-%m-%dT%H:%M:%SZ")
    return batch.column(name)


def _json_strings(texts: pa.Array) -> pa.Array:
    """Quoted, escaped JSON strings (nulls stay null)."""
    if pc.any(pc.match_substring_regex(texts, _NEEDS_JSON_ESCAPE)).as_py():
        return pa.array([None if t is None else json.dumps(t, ensure_ascii=False) for t in texts.to_pylist()])
    return pc.binary_join_element_wise('"', texts, '"', "")


def _as_text(values: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(values.type) or not pa.types.is_string(values.type):
        return pc.cast(values, pa.string())
    return values


def field_strings(batch: pa.RecordBatch, f: Field) -> pa.Array:
    """One string per row for a placeholder; null where the field is null (except typed JSON: "null")."""
    values = column(batch, f.name)
    texts = _as_text(values)
    textual = pa.types.is_string(values.type) or pa.types.is_dictionary(values.type) or f.name == "ts_iso"
    if f.mode == "json":
        return pc.fill_null(_json_strings(texts) if textual else texts, "null")
    if f.mode == "json_text":
        quoted = _json_strings(texts)
        return pc.utf8_slice_codeunits(quoted, 1, -1)
    if f.mode == "url" and textual and not pc.all(pc.match_substring_regex(texts, _URL_SAFE)).as_py():
        return pa.array([None if t is None else quote(t, safe="") for t in texts.to_pylist()], pa.string())
    return texts


@dataclass(frozen=True)
class Filled:
    """A template filled for every row of a batch: the strings, and which field was null where."""

    values: list[Any]  # str, or bytes when asked; None where a null field was needed
    null_field: np.ndarray | None  # object array of field names (None = fine); None when no row lacks one


def fill(pieces: list[Piece], batch: pa.RecordBatch, *, as_bytes: bool = False) -> Filled:
    """Fill a template for every row; a row whose text needed a null field gets None."""
    n = batch.num_rows
    arrays: list[pa.Array | str] = []
    null_field: np.ndarray | None = None
    for p in pieces:
        if isinstance(p, str):
            arrays.append(p)
            continue
        strings_ = field_strings(batch, p)
        if p.mode == "text":  # a header's value is sent as it is: a CR or LF would forge another one
            broken = pc.fill_null(pc.match_substring_regex(strings_, _CONTROL), False)
            if pc.any(broken).as_py():
                null_field = np.full(n, None, object) if null_field is None else null_field
                unset = broken.to_numpy(zero_copy_only=False) & (null_field == None)  # noqa: E711
                null_field[unset] = f"{p.name}: CR, LF or NUL"
                strings_ = pc.if_else(broken, pa.scalar(None, pa.string()), strings_)
        if strings_.null_count:
            null_field = np.full(n, None, object) if null_field is None else null_field
            missing = strings_.is_null().to_numpy(zero_copy_only=False) & (null_field == None)  # noqa: E711
            null_field[missing] = p.name
        arrays.append(strings_)
    if not any(isinstance(a, pa.Array) for a in arrays):
        text = "".join(a for a in arrays if isinstance(a, str))
        return Filled([text.encode() if as_bytes else text] * n, None)
    joined = pc.binary_join_element_wise(*arrays, "")
    return Filled((joined.cast(pa.binary()) if as_bytes else joined).to_pylist(), null_field)
