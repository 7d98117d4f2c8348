"""Sides of a comparison: a run or a run set each, their headline means with intervals, and differences.

A single run is a side of one replicate (a mean without an interval). Differences are against the first
side; they are paired replicate by replicate when both sides are run sets made with the same seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from parcours.output.reader import Run
from parcours.output.runset import RunSet, open_runs
from parcours.report.columns.events import Vocab
from parcours.report.numbers.intervals import Estimate, difference, mean_interval
from parcours.report.numbers.kpis import KPIS, Kpi, fmt, headline
from parcours.report.numbers.summary import RunSummary, label_of, summarise
from parcours.report.pages.html import esc, table, tr


@dataclass(frozen=True)
class Side:
    """One argument of ``report``/``compare``: its replicates' summaries and their headline values."""

    label: str
    path: str
    kind: str  # "run" or "runset"
    seeds: list[int]
    replicates: list[RunSummary]

    @property
    def first(self) -> RunSummary:
        return self.replicates[0]

    @cached_property
    def headlines(self) -> list[dict[str, float]]:
        return [headline(r) for r in self.replicates]

    def values(self, key: str) -> np.ndarray:
        return np.array([h[key] for h in self.headlines], dtype=np.float64)

    def estimates(self) -> dict[str, Estimate]:
        return {k.key: mean_interval(self.values(k.key)) for k in KPIS}


def _label(opened: Run | RunSet) -> str:
    return opened.scenario if isinstance(opened, RunSet) else label_of(opened)


def open_sides(paths: Sequence[Path]) -> list[Run | RunSet]:
    """Each path as a run or a run set; a missing or unfinished one fails here, before any work."""
    opened = [open_runs(p) for p in paths]
    for o in opened:
        if isinstance(o, RunSet):
            o.runs  # noqa: B018  # opens every replicate now
    return opened


def summarise_sides(opened: Sequence[Run | RunSet]) -> list[Side]:
    """Summarise every replicate of every side, one vocabulary for all, each side under a distinct label."""
    labels = [_label(o) for o in opened]
    if len(set(labels)) < len(labels):
        labels = [o.path.name for o in opened]
    if len(set(labels)) < len(labels):
        labels = [f"{i + 1}:{name}" for i, name in enumerate(labels)]
    every = [r for o in opened for r in (o.runs if isinstance(o, RunSet) else [o])]
    vocab = Vocab.for_runs(every)
    sides = []
    for o, label in zip(opened, labels, strict=True):
        if isinstance(o, RunSet):
            runs = o.runs
            summaries = [summarise(r, label if i == 0 else f"{label}#{i}", vocab) for i, r in enumerate(runs)]
            sides.append(Side(label, str(o.path), "runset", o.seeds, summaries))
        else:
            seed = -1 if o.manifest.seed is None else o.manifest.seed
            sides.append(Side(label, str(o.path), "run", [seed], [summarise(o, label, vocab)]))
    return sides


def paired(base: Side, other: Side) -> bool:
    """Both sides are run sets whose replicates used the same seeds, index by index."""
    return base.kind == other.kind == "runset" and base.seeds == other.seeds


def differences(sides: Sequence[Side]) -> list[dict[str, Estimate]]:
    """Each side after the first against the first: figure by figure, paired when the seeds match."""
    base = sides[0]
    return [
        {k.key: difference(base.values(k.key), s.values(k.key), paired=paired(base, s)) for k in KPIS}
        for s in sides[1:]
    ]


def any_replicated(sides: Sequence[Side]) -> bool:
    return any(len(s.replicates) > 1 for s in sides)


def sides_document(sides: Sequence[Side]) -> dict[str, Any]:
    """The JSON of means and intervals: each figure as {mean, ci_low, ci_high}, per side and difference."""
    diffs = differences(sides)
    return {
        "sides": [
            {
                "label": s.label,
                "path": s.path,
                "kind": s.kind,
                "replicates": len(s.replicates),
                "seeds": s.seeds,
                "kpis": {key: e.as_json() for key, e in s.estimates().items()},
            }
            for s in sides
        ],
        "differences": [
            {
                "label": s.label,
                "against": sides[0].label,
                "paired": paired(sides[0], s),
                "kpis": {key: {**e.as_json(), "holds_zero": e.holds_zero()} for key, e in d.items()},
            }
            for s, d in zip(sides[1:], diffs, strict=True)
        ],
    }


NOISE_STYLE = "color:#999;font-style:italic"


def _bounds(kpi: Kpi, e: Estimate, signed: bool) -> str:
    if not e.has_interval:
        return ""
    if kpi.unit == "%":
        lo, hi = e.ci_low * 100, e.ci_high * 100
        digits = 1 if max(abs(lo), abs(hi)) >= 1 else 2
        sign = "+" if signed else ""
        text = f"[{lo:{sign}.{digits}f}, {hi:{sign}.{digits}f}]{' pts' if signed else ' %'}"
    else:
        text = f"[{fmt(kpi, e.ci_low, signed)}, {fmt(kpi, e.ci_high, signed)}]"
    return f"<br><small>{esc(text)}</small>"


def _difference(kpi: Kpi, e: Estimate) -> str:
    if kpi.unit == "%":
        points = e.mean * 100
        shown = f"{points:+.{1 if abs(points) >= 1 else 2}f} pts"
    else:
        shown = fmt(kpi, e.mean, signed=True)
    cell = esc(shown) + _bounds(kpi, e, signed=True)
    if e.holds_zero():
        title = "the 95% interval holds 0: not told apart from noise"
        cell = f'<span class="holds-zero" style="{NOISE_STYLE}" title="{title}">~ {cell}</span>'
    return "#" + cell


def interval_table(sides: Sequence[Side]) -> str:
    """Headline figures: each side's mean over its replicates with its 95% interval, then each difference
    from the first side with its interval; a difference whose interval holds 0 is greyed and marked ~."""
    estimates = [s.estimates() for s in sides]
    diffs = differences(sides)
    head = [
        "figure",
        *(f"{s.label} (mean of {len(s.replicates)})" for s in sides),
        *(f"{s.label} vs {sides[0].label}" for s in sides[1:]),
    ]
    rows = []
    for k in KPIS:
        shown = [f"#{esc(fmt(k, e[k.key].mean))}{_bounds(k, e[k.key], False)}" for e in estimates]
        rows.append(tr(esc(k.label), *shown, *(_difference(k, d[k.key]) for d in diffs)))
    notes = []
    for s in sides[1:]:
        how = (
            "paired replicate by replicate (same seeds: common random numbers)"
            if paired(sides[0], s)
            else "unpaired (Welch), the seeds differ"
        )
        notes.append(f"{s.label} vs {sides[0].label}: {how}.")
    origin = " ".join(
        f"{s.label}: {'run set' if s.kind == 'runset' else 'run'} {s.path}, "
        f"{len(s.replicates)} replicate(s), seed(s) {', '.join(map(str, s.seeds))}."
        for s in sides
    )
    legend = (
        f"<p><small>{esc(origin)}<br>Means over replicates with their 95% t-interval in brackets. "
        f'<span style="{NOISE_STYLE}">~ Greyed differences</span>: their interval holds 0, so these runs '
        "do not tell them apart from noise. " + esc(" ".join(notes)) + "</small></p>"
    )
    return table(head, rows) + legend
