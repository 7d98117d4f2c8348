"""The realism panel: a run's figures next to published ones, each with its source and a range."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from parcours.errors import ParcoursError
from parcours.report.journeys import MONO
from parcours.report.summary import RunSummary

REFERENCES = "references.toml"
FIELDS = ("metric", "label", "published", "source", "low", "high", "unit", "remarks")


def _peak_hour(channel: str) -> Callable[[RunSummary], float]:
    def peak(r: RunSummary) -> float:
        by_hour = r.sessions_by_hour.sum(axis=1)[:, r.channels.index(channel)]  # [weekend, hour]
        row = by_hour[0] if by_hour[0].sum() else by_hour[1]  # weekdays unless the run has none
        return float(np.argmax(row)) if row.sum() else math.nan

    return peak


def several_channels_share(r: RunSummary) -> float:
    counts = r.typology.counts.sum(axis=0)
    return float(1 - counts[MONO] / counts.sum()) if counts.sum() else math.nan


def spend_ratio(r: RunSummary) -> float:
    counts, revenue = r.typology.counts.sum(axis=0), r.typology.revenue_cents.sum(axis=0)
    if not counts[MONO] or not revenue[MONO] or counts.sum() == counts[MONO]:
        return math.nan
    several = (revenue.sum() - revenue[MONO]) / (counts.sum() - counts[MONO])
    return float(several / (revenue[MONO] / counts[MONO]))


def online_conversion(r: RunSummary) -> float:
    web = [
        r.channels.index(c)
        for c in ("mobile_app", "mobile_web", "desktop_web", "tablet", "marketplace", "social")
    ]
    f = r.funnel[:, web].sum(axis=(0, 1))
    return float(f[2] / f[0]) if f[0] else math.nan


METRICS: dict[str, Callable[[RunSummary], float]] = {
    "several_channels_share": several_channels_share,
    "spend_ratio": spend_ratio,
    "ropo_share": lambda r: r.ropo_share,
    "cart_abandonment": lambda r: r.cart_abandonment,
    "online_conversion": online_conversion,
    "call_abandonment": lambda r: r.calls.abandonment() if r.calls.total else math.nan,
    "desktop_peak_hour": _peak_hour("desktop_web"),
    "tablet_peak_hour": _peak_hour("tablet"),
}


@dataclass(frozen=True)
class Reference:
    metric: str
    label: str
    published: str
    source: str
    low: float
    high: float
    unit: str
    remarks: str

    def verdict(self, value: float) -> str:
        if math.isnan(value):
            return "no data"
        return "inside" if self.low <= value <= self.high else "outside"

    def show(self, value: float) -> str:
        if math.isnan(value):
            return "n/a"
        return {"%": f"{value:.1%}", "x": f"{value:.2f}×", "h": f"{value:02.0f}:00"}.get(
            self.unit, f"{value:g}"
        )


def load_references(text: str | None = None, source: str = REFERENCES) -> list[Reference]:
    """The shipped references (or ``text``), checked: a bad entry names the file, entry and field."""
    raw = tomllib.loads(text if text is not None else files(__package__).joinpath(REFERENCES).read_text())
    refs = []
    for i, entry in enumerate(raw.get("reference", [])):
        where = f"{source}: reference[{i}]"
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise ParcoursError(f"{where}: missing {', '.join(missing)}")
        if entry["metric"] not in METRICS:
            raise ParcoursError(f"{where}: metric {entry['metric']!r} is not one of {sorted(METRICS)}")
        if not entry["low"] <= entry["high"]:
            raise ParcoursError(f"{where}: low ({entry['low']}) must not exceed high ({entry['high']})")
        refs.append(Reference(**{f: entry[f] for f in FIELDS}))
    return refs


@dataclass(frozen=True)
class Check:
    reference: Reference
    values: list[float]  # one per run

    def verdicts(self) -> list[str]:
        return [self.reference.verdict(v) for v in self.values]


def realism(runs: list[RunSummary], references: list[Reference] | None = None) -> list[Check]:
    refs = references if references is not None else load_references()
    return [Check(ref, [float(METRICS[ref.metric](r)) for r in runs]) for ref in refs]
