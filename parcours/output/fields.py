"""Reading a manifest's JSON field by field: each value of the type and within the bounds it must have,
or a RunDirError naming the file and the field (``counts.events``, ``scenario.calendar.timezone``).

The manifests (output/manifest.py) are the only callers; they say which field is what. A manifest is
a file anyone can edit, so nothing in it is trusted: a boolean is not a count, a string is not a date,
and a shard count of 1e9 is refused before anyone loops over it. The file itself is read with a size
cap and its nesting measured before ``json.loads`` sees it (a manifest nested 20,000 deep would raise
RecursionError inside the parser).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from parcours.errors import RunDirError
from parcours.specfile import MAX_DATE, MIN_DATE

#: The largest manifest parcours reads. A run.json is about 10 KiB per persona (40 KiB for the four
#: built-in ones); 4 MiB leaves room for hundreds of personas, and keeps measuring its nesting (the
#: worst case, millions of tiny strings) within a second or two on a busy machine.
MAX_MANIFEST_BYTES = 4 << 20
#: The deepest nesting a manifest may have: parcours writes 6 levels (run.json's scenario.stores.week).
MAX_MANIFEST_DEPTH = 64
#: The earliest and latest instants a manifest may name: the spec files' date bounds (specfile.py),
#: with a day's margin either side for the time zones (a local midnight is up to 14 h from UTC's).
EARLIEST = dt.datetime.combine(MIN_DATE, dt.time(), dt.UTC) - dt.timedelta(days=1)
LATEST = dt.datetime.combine(MAX_DATE, dt.time(), dt.UTC) + dt.timedelta(days=2)

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def load_object(path: Path) -> dict[str, Any]:
    """A manifest's JSON object, read from a regular file of at most MAX_MANIFEST_BYTES, nested at most
    MAX_MANIFEST_DEPTH deep; anything else a RunDirError naming the file."""
    raw = read_capped(path, MAX_MANIFEST_BYTES, "manifest")
    depth = nesting(raw)
    if depth > MAX_MANIFEST_DEPTH:
        raise RunDirError(f"{path}: nested {depth} deep; a parcours manifest is at most {MAX_MANIFEST_DEPTH}")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RunDirError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: not a parcours manifest (expected a JSON object)")
    return data


def read_capped(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most ``limit``; a FIFO or device is refused before it is opened."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise RunDirError(f"{path}: not a regular file; a {what} is one")
        with open(path, "rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(raw) > limit:
        raise RunDirError(f"{path}: larger than {limit >> 20} MiB; not a parcours {what}")
    return raw


def nesting(raw: bytes) -> int:
    """How deep ``raw``'s arrays and objects nest, strings left out, in linear time whatever the text.

    A string runs to its closing quote or, unclosed, to the end (possessively: no backtracking, so an
    unclosed string full of escaped quotes is still one pass); the brackets left are summed up."""
    marks = np.frombuffer(_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS), np.uint8)
    if not len(marks):
        return 0
    steps = np.where((marks == ord("[")) | (marks == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


class Doc:
    """One JSON object of a manifest; ``at`` gives a nested one, every getter names the field it reads."""

    def __init__(self, data: Mapping[str, Any], where: Path, prefix: str = "") -> None:
        self.data, self.where, self.prefix = data, where, prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, problem: str) -> RunDirError:
        return RunDirError(f"{self.where}: {self.name(key)}: {problem}")

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "missing")
        return self.data[key]

    def at(self, key: str) -> Doc:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"expected an object, not {_show(value)}")
        return Doc(value, self.where, f"{self.name(key)}.")

    def integer(self, key: str, lo: int, hi: int) -> int:
        return self.bounded_int(key, self.get(key), lo, hi)

    def bounded_int(self, key: str, value: Any, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, not {_show(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:,} and {hi:,}, not {value:,}")
        return value

    def optional_int(self, key: str, lo: int, hi: int) -> int | None:
        return None if self.get(key) is None else self.integer(key, lo, hi)

    def number(self, key: str, lo: float, hi: float) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, not {_show(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:g} and {hi:g}, not {value:g}")
        return float(value)

    def optional_number(self, key: str, lo: float, hi: float) -> float | None:
        return None if self.get(key) is None else self.number(key, lo, hi)

    def string(self, key: str, pattern: str | None = None) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, not {_show(value)}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.fail(key, f"{_show(value)} is not of the form {pattern}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self.fail(key, f"{_show(value)} is not one of {', '.join(allowed)}")
        return value

    def zone(self, key: str) -> str:
        name = self.string(key)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise self.fail(key, f"unknown time zone {_show(name)}") from None
        return name

    def date(self, key: str) -> dt.date:
        text = self.string(key)
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise self.fail(key, f"expected a date as YYYY-MM-DD, not {_show(text)}") from None
        if not MIN_DATE <= day <= MAX_DATE:
            raise self.fail(key, f"must be a date between {MIN_DATE} and {MAX_DATE}, not {day}")
        return day

    def instant(self, key: str) -> dt.datetime:
        text = self.string(key)
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(key, f"expected an ISO date and time, not {_show(text)}") from None
        if when.tzinfo is None:
            raise self.fail(key, f"{_show(text)} names no UTC offset")
        if not EARLIEST <= when <= LATEST:
            raise self.fail(key, f"{when.isoformat()} is outside {MIN_DATE} to {MAX_DATE}")
        return when

    def array(self, key: str, most: int) -> list[Any]:
        value = self.get(key)
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, not {_show(value)}")
        if len(value) > most:
            raise self.fail(key, f"{len(value):,} entries, at most {most:,}")
        return value

    def objects(self, key: str, most: int) -> dict[str, Mapping[str, Any]]:
        """An object whose values are objects (the personas by name), at least one, at most ``most``."""
        doc = self.at(key)
        if not doc.data:
            raise self.fail(key, "empty; a run has at least one")
        if len(doc.data) > most:
            raise self.fail(key, f"{len(doc.data):,} entries, at most {most:,}")
        for name in doc.data:
            doc.at(name)
        return dict(doc.data)


def _show(value: Any) -> str:
    text = (
        json.dumps(value)
        if isinstance(value, str | int | float | bool | type(None))
        else type(value).__name__
    )
    if isinstance(value, list):
        text = "a list"
    elif isinstance(value, dict):
        text = "an object"
    return text if len(text) <= 40 else text[:37] + "..."
