"""Mapping files: every built-in one loads; each rule has a known-bad file; templates fill as documented."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from parcours.errors import ParcoursError, SpecError
from parcours.loadtests import mapping as mappings
from parcours.loadtests.templates import fill, json_pieces, text_pieces
from parcours.vocabulary import EventType


@pytest.mark.parametrize("name", mappings.builtin_names())
def test_builtin_mappings_load_and_compile(name: str) -> None:
    m = mappings.load(name)
    requests = m.compile()
    assert requests and all(r.path for r in requests.values())
    assert m.fields <= set(mappings.templates.FIELDS)


def test_builtins_are_the_documented_ones() -> None:
    assert {"ingest", "ingest_batch", "reference"} <= set(mappings.builtin_names())


def test_reference_mapping_covers_every_event_type() -> None:
    m = mappings.load("reference")
    assert all(m.handles(e.value) for e in EventType)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent(body))
    return path


GOOD_HEAD = 'name = "x"\n'

BAD = {
    "unknown event type": ('[requests.cart_ad]\npath = "/c"\n', "requests", "unknown event type 'cart_ad'"),
    "unknown field": (
        '[requests.cart_add]\npath = "/c/{prodct_id}"\n',
        "requests.cart_add.path",
        "prodct_id",
    ),
    "path without slash": (
        '[requests.cart_add]\npath = "c"\n',
        "requests.cart_add.path",
        "must start with /",
    ),
    "bad method": (
        '[requests.cart_add]\nmethod = "FETCH"\npath = "/c"\n',
        "requests.cart_add.method",
        "FETCH",
    ),
    "bad status": (
        '[defaults]\nsuccess = [200, 99]\n[requests.login]\npath = "/l"\n',
        "defaults.success",
        "99",
    ),
    "format spec": ('[requests.login]\npath = "/l/{event_id:08d}"\n', "requests.login.path", "format spec"),
    "unknown key": ('[requests.login]\npath = "/l"\nverb = "GET"\n', "requests.login.verb", "unknown field"),
    "body field": (
        '[requests.login]\npath = "/l"\nbody = { a = ["{nope}"] }\n',
        "requests.login.body",
        "nope",
    ),
    "no requests": ("[requests]\n", "requests", "at least one request"),
    "content-length header": (
        '[requests.login]\npath = "/l"\nheaders = { Content-Length = "5" }\n',
        "requests.login.headers",
        "header Content-Length: HTTP sets it",
    ),
    "host header in defaults": (
        '[defaults]\nheaders = { host = "x" }\n[requests.login]\npath = "/l"\n',
        "defaults.headers",
        "header host: HTTP sets it",
    ),
    "transfer-encoding header": (
        '[requests.login]\npath = "/l"\nheaders = { Transfer-Encoding = "chunked" }\n',
        "requests.login.headers",
        "header Transfer-Encoding",
    ),
    "nested too deep": (
        "x = " + "[" * 40 + "]" * 40 + '\n[requests.login]\npath = "/l"\n',
        "",
        "nested deeper",
    ),
    "batch targets": (
        '[batch]\nmax_events = 10\n[requests.login]\npath = "/a"\n[requests.search]\npath = "/b"\n',
        "",
        "same method and path",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_mapping_names_file_and_field(tmp_path: Path, case: str) -> None:
    body, field, words = BAD[case]
    path = _write(tmp_path, GOOD_HEAD + body)
    with pytest.raises(SpecError) as err:
        mappings.load(str(path))
    message = str(err.value)
    assert message.startswith(f"{path}: {field}"), message
    assert words in message
    assert "\n" not in message


def test_a_missing_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(
        tmp_path,
        GOOD_HEAD + '[requests.login]\npath = "/l"\nheaders = { Authorization = "Bearer {env.PT}" }\n',
    )
    monkeypatch.delenv("PT", raising=False)
    m = mappings.load(str(path))
    with pytest.raises(SpecError, match=r"requests\.login\.headers\.Authorization: environment variable PT"):
        m.check_environment()
    monkeypatch.setenv("PT", "s3cret")
    m.check_environment()
    (header,) = [pieces for name, pieces in m.compile()["login"].headers if name == "Authorization"]
    assert fill(header, batch(event_id=[1])).values == ["Bearer s3cret"]


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        ('headers = { Authorization = "Bearer {env.PT}" }', "s3cret\r\nX-Admin: 1", "a CR, LF"),
        ('headers = { X-Id = "{env.PT}" }', "a\nb", "a CR, LF"),
        ('path = "/l/{env.PT}"', "has space", "a space"),
    ],
)
def test_environment_values_are_checked_where_they_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, value: str, words: str
) -> None:
    path_line = "" if where.startswith("path") else 'path = "/l"\n'
    path = _write(tmp_path, GOOD_HEAD + f"[requests.login]\n{path_line}{where}\n")
    monkeypatch.setenv("PT", value)
    with pytest.raises(SpecError, match=rf"requests\.login\.\w+.*environment variable PT holds {words}"):
        mappings.load(str(path)).check_environment()


def test_a_header_field_with_a_line_break_skips_the_event() -> None:
    rows = batch(visible_id=["ok", "evil\r\nX-Admin: 1", None], event_id=[1, 2, 3])
    filled = fill(text_pieces("{visible_id}", "text"), rows)
    assert filled.values == ["ok", None, None]
    assert filled.null_field is not None
    assert filled.null_field.tolist() == [None, "visible_id: CR, LF or NUL", "visible_id"]


def test_a_mapping_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        mappings.load(str(fifo))  # a FIFO would block the reading: refused without opening it
    with pytest.raises(SpecError, match="not a regular file"):
        mappings.load(str(tmp_path))


def test_an_unknown_name_that_is_no_file_is_refused() -> None:
    with pytest.raises(ParcoursError, match="--mapping: 'nosuch' is neither a built-in mapping"):
        mappings.load("nosuch")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        mappings.load(str(tmp_path / "gone.toml"))


def batch(**columns: list[Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(columns)


ROWS = batch(
    visible_id=["a b/c", "x", 'q"u\\ote'], product_id=[7, None, 9], quantity=[2, None, 1], event_id=[1, 2, 3]
)


def test_paths_are_percent_encoded_and_nulls_skip_the_event() -> None:
    filled = fill(text_pieces("/carts/{visible_id}/items/{product_id}", "url"), ROWS)
    assert filled.values == ["/carts/a%20b%2Fc/items/7", None, "/carts/q%22u%5Cote/items/9"]
    assert filled.null_field is not None and filled.null_field.tolist() == [None, "product_id", None]


def test_literal_braces_survive() -> None:
    assert fill(text_pieces("/x/{{literal}}/{event_id}", "url"), ROWS).values[0] == "/x/{literal}/1"


def test_a_lone_placeholder_keeps_its_type_and_text_around_it_makes_a_string() -> None:
    template = {"p": "{product_id}", "s": "id-{event_id}", "v": "{visible_id}", "n": 3, "l": ["{quantity}"]}
    filled = fill(json_pieces(template), ROWS, as_bytes=True)
    bodies = [json.loads(b) for b in filled.values]
    assert bodies == [
        {"p": 7, "s": "id-1", "v": "a b/c", "n": 3, "l": [2]},
        {"p": None, "s": "id-2", "v": "x", "n": 3, "l": [None]},
        {"p": 9, "s": "id-3", "v": 'q"u\\ote', "n": 3, "l": [1]},
    ]
    assert filled.null_field is None  # typed values may be null; nothing is skipped


def test_timestamps_fill_as_milliseconds_or_iso_text() -> None:
    ts = pa.array([1_732_442_400_123], pa.timestamp("ms", tz="UTC"))
    rows = pa.RecordBatch.from_arrays([ts], names=["ts"])
    body = fill(json_pieces({"ms": "{ts_ms}", "iso": "{ts_iso}", "at": "at {ts_iso}"}), rows).values[0]
    assert json.loads(body) == {
        "ms": 1_732_442_400_123,
        "iso": "2024-11-24T10:00:00.123Z",
        "at": "at 2024-11-24T10:00:00.123Z",
    }
