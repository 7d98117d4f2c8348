"""Loading TOML spec files into frozen pydantic models, with one-line errors naming file and field.

Shared by the persona and scenario specs (it imports nothing else of ours).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from parcours.errors import SpecError

PROBABILITY_TOLERANCE = 1e-3

M = TypeVar("M", bound=BaseModel)


class Spec(BaseModel):
    """Base of every spec: immutable, and an unknown key is an error, not a silent no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "", "no such file") from None
    except OSError as exc:
        raise SpecError(path, "", f"cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "", f"not valid TOML ({exc})") from None


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
