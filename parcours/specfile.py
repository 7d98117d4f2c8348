"""Loading TOML spec files into frozen pydantic models, with one-line errors naming file and field.

Shared by the persona and scenario specs (it imports nothing else of ours).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import os
import stat
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from parcours.errors import SpecError

PROBABILITY_TOLERANCE = 1e-3
#: The largest spec file parcours reads: a persona or scenario is a few KiB; a link to /dev/zero or a
#: data file given by mistake is refused after this many bytes instead of filling the memory.
MAX_SPEC_BYTES = 1 << 20
#: The deepest nesting of tables and arrays in a spec or mapping file: the specs nest 4 levels.
MAX_SPEC_DEPTH = 32
#: The largest magnitude of any number in a spec (a seed excepted): a billion customers, euros, minutes
#: are already far beyond any real setting, and every product, sum or cent amount of such numbers stays
#: exact in float64 and int64, so a typo (1e300) is an error naming its field, not negative revenue.
MAX_SPEC_NUMBER = 1e9
#: The dates a spec may name: the Unix epoch (timestamps are counted from it) to well before 2262, where
#: nanosecond timestamps, which the report's tools use, end.
MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
#: Fields whose integers are identifiers, not quantities: any non-negative int64 is a valid seed.
UNBOUNDED_FIELDS = frozenset({"seed"})

M = TypeVar("M", bound=BaseModel)


class Spec(BaseModel):
    """Base of every spec: immutable, and an unknown key is an error, not a silent no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: Any) -> Any:
        if info.field_name not in UNBOUNDED_FIELDS:
            check_bounded(value)
        return value


def check_bounded(value: Any) -> None:
    """Every number in ``value`` (nested lists, tuples and dicts included) finite, within MAX_SPEC_NUMBER."""
    if isinstance(value, bool):
        return
    if isinstance(value, dt.date):
        check_date(value)
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_SPEC_NUMBER:
            raise ValueError(
                f"must be a finite number between -{MAX_SPEC_NUMBER:g} and {MAX_SPEC_NUMBER:g}, not {value!r}"
            )
    elif isinstance(value, dict):
        for item in value.values():
            check_bounded(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_bounded(item)


def check_date(value: dt.date) -> None:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be a date between {MIN_DATE} and {MAX_DATE}, not {value}")


def read_toml(path: Path) -> dict[str, Any]:
    """A spec file's TOML, read at most MAX_SPEC_BYTES, UTF-8 checked; only from a regular file (a link
    to one is fine): a FIFO would block the read forever, a device (/dev/zero) never end."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            raise SpecError(path, "", "not a regular file (a FIFO, device or socket); give a spec file")
        # O_NONBLOCK: should it have become a FIFO since, the open does not wait for a writer
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SpecError(path, "", "not a regular file (a FIFO, device or socket); give a spec file")
            data = f.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(path, "", "no such file") from None
    except IsADirectoryError:
        raise SpecError(path, "", "is a directory, not a spec file") from None
    except OSError as exc:
        raise SpecError(path, "", f"cannot read ({exc.strerror})") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(
            path, "", f"larger than {MAX_SPEC_BYTES >> 20} MiB: not a persona, scenario or mapping file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            path, "", f"not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None
    try:
        parsed = _parsed(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "", f"not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses per level: Python's own limit stops it
        raise SpecError(path, "", f"nested deeper than {MAX_SPEC_DEPTH} tables or arrays") from None
    if _depth(parsed) > MAX_SPEC_DEPTH:
        raise SpecError(path, "", f"nested deeper than {MAX_SPEC_DEPTH} tables or arrays")
    return copy.deepcopy(parsed)  # the caller's own: the kept one is never handed out


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> dict[str, Any]:
    """A TOML text parsed, kept by its text: a process that loads the same specs run after run
    (``explain``'s workers: a scenario and its personas per run) parses each once (2 ms a file,
    a copy 0.2 ms). Keyed on the whole text, so a file that changed is parsed again."""
    return tomllib.loads(text)


def _depth(value: Any) -> int:
    """How deep tables and arrays nest in ``value``, counted without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_SPEC_DEPTH:
                break
            todo.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def validate(model: type[M], data: dict[str, Any], source: str | Path) -> M:
    """Validate ``data`` into ``model``; the first problem becomes a SpecError naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "missing"
        elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], dict):
            message = f"{message} (got {err['input']!r})"
        raise SpecError(source, _field_path(loc), message) from None


def check_distribution(values: dict[str, float] | list[float], what: str) -> None:
    """A probability distribution: every value in [0, 1] and a sum of 1 (within rounding)."""
    numbers = list(values.values()) if isinstance(values, dict) else list(values)
    if any(v < 0 or v > 1 for v in numbers):
        raise ValueError(f"{what}: probabilities must lie between 0 and 1")
    total = sum(numbers)
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise ValueError(f"{what}: probabilities sum to {total:.4f}, not 1")
