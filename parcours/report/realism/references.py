"""The published figures (references.toml), checked on load: a bad entry names the file, entry and field."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from parcours.errors import ParcoursError
from parcours.report.realism.figures import CHECKS
from parcours.report.realism.flows import SHOWN
from parcours.vocabulary import IntegrationLevel

REFERENCES = "references.toml"
TEXT_FIELDS = ("id", "key", "kind", "label", "definition", "published", "source", "period", "population")
KINDS = {"check": CHECKS, "consistency": CHECKS, "shown": SHOWN, "input": SHOWN}
CONFIDENCE = ("verified", "known", "unverified", "assumption", "none")
UNITS = ("%", "x", "count", "per year")


@dataclass(frozen=True)
class Reference:
    id: str
    key: str
    kind: str  # check, consistency (compared), shown, input (displayed only)
    label: str
    definition: str
    published: str
    source: str
    period: str
    population: str
    confidence: str
    caveat: str
    unit: str
    low: float = math.nan
    high: float = math.nan
    min_days: int = 1
    levels: tuple[str, ...] = field(default_factory=tuple)  # empty: every integration level
    remarks: str = ""

    @property
    def checked(self) -> bool:
        return self.kind in ("check", "consistency")

    @property
    def has_range(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    def show(self, value: float) -> str:
        if math.isnan(value):
            return "n/a"
        if self.unit == "%":
            return f"{value:.1%}" if value >= 0.01 or value == 0 else f"{value:.2%}"
        if self.unit == "x":
            return f"{value:.2f}x"
        if self.unit == "count":
            return f"{value:,.0f}"
        return f"{value:,.1f}"

    def shown_range(self) -> str:
        if not self.has_range:
            return "-"
        if self.low == self.high:
            return f"= {self.show(self.low)}"
        return f"{self.show(self.low)} to {self.show(self.high)}"


def _check(entry: dict[str, Any], where: str) -> None:
    missing = [f for f in (*TEXT_FIELDS, "confidence", "caveat", "unit") if f not in entry]
    if missing:
        raise ParcoursError(f"{where}: missing {', '.join(missing)}")
    if entry["kind"] not in KINDS:
        raise ParcoursError(f"{where}: kind {entry['kind']!r} is not one of {sorted(KINDS)}")
    known = KINDS[entry["kind"]]
    if entry["key"] not in known:
        raise ParcoursError(f"{where}: key {entry['key']!r} is not one of {sorted(known)}")
    if entry["confidence"] not in CONFIDENCE:
        raise ParcoursError(f"{where}: confidence {entry['confidence']!r} is not one of {list(CONFIDENCE)}")
    if entry["unit"] not in UNITS:
        raise ParcoursError(f"{where}: unit {entry['unit']!r} is not one of {list(UNITS)}")
    if entry["confidence"] in ("unverified", "assumption") and "assumption" not in entry["caveat"]:
        raise ParcoursError(f"{where}: caveat must say which part is an assumption ({entry['confidence']})")
    has_range = "low" in entry and "high" in entry
    if entry["kind"] in ("check", "consistency") and not has_range:
        raise ParcoursError(f"{where}: a {entry['kind']} needs low and high")
    if has_range and not entry["low"] <= entry["high"]:
        raise ParcoursError(f"{where}: low ({entry['low']}) must not exceed high ({entry['high']})")
    levels = set(entry.get("levels", [])) - {lv.value for lv in IntegrationLevel}
    if levels:
        raise ParcoursError(f"{where}: unknown integration level(s) {sorted(levels)}")


def load_references(text: str | None = None, source: str = REFERENCES) -> list[Reference]:
    """The shipped references (or ``text``), each checked."""
    raw = tomllib.loads(text if text is not None else files(__package__).joinpath(REFERENCES).read_text())
    refs: list[Reference] = []
    for i, entry in enumerate(raw.get("reference", [])):
        where = f"{source}: reference[{i}]"
        _check(entry, where)
        if entry["id"] in {r.id for r in refs}:
            raise ParcoursError(f"{where}: id {entry['id']!r} appears twice")
        values = {k: entry[k] for k in (*TEXT_FIELDS, "confidence", "caveat", "unit")}
        refs.append(
            Reference(
                **values,
                low=float(entry.get("low", math.nan)),
                high=float(entry.get("high", math.nan)),
                min_days=int(entry.get("min_days", 1)),
                levels=tuple(entry.get("levels", ())),
                remarks=str(entry.get("remarks", "")),
            )
        )
    return refs
