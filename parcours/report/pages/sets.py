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
from parcours.report.numbers import intervals, units
from parcours.report.numbers.bounds import MIN_REPLICATES, bounded_mean, few_replicates, unit_kind
from parcours.report.numbers.intervals import Estimate
from parcours.report.numbers.kpis import KPIS, fmt, headline
from parcours.report.numbers.summary import RunSummary, label_of, summarise
from parcours.report.pages.headline import NOISE_STYLE, bounds, difference
from parcours.report.pages.html import esc, table, tr

KPI_BY_KEY = {k.key: k for k in KPIS}


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
        """Each figure's mean over the replicates, its interval inside the figure's range."""
        return {k.key: bounded_mean(self.values(k.key), unit_kind(k.unit)) for k in KPIS}


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
            # the plots, facts and realism panel show replicate 1: their label says so
            summaries = [summarise(r, f"{label}, replicate {i + 1}", vocab) for i, r in enumerate(runs)]
            sides.append(Side(label, str(o.path), "runset", o.seeds, summaries))
        else:
            seed = -1 if o.manifest.seed is None else o.manifest.seed
            sides.append(Side(label, str(o.path), "run", [seed], [summarise(o, label, vocab)]))
    return sides


def paired(base: Side, other: Side) -> bool:
    """Both sides are run sets whose replicates used the same seeds, index by index."""
    return base.kind == other.kind == "runset" and base.seeds == other.seeds


def over_units(base: Side, other: Side) -> bool:
    """Two single runs: their difference's interval is over the units each figure rests on."""
    return base.kind == other.kind == "run"


def _difference(base: Side, other: Side, key: str) -> Estimate:
    if over_units(base, other):
        counted = KPI_BY_KEY[key].units
        return units.difference(counted(base.first), counted(other.first))
    return intervals.difference(base.values(key), other.values(key), paired=paired(base, other))


def differences(sides: Sequence[Side]) -> list[dict[str, Estimate]]:
    """Each side after the first against the first, figure by figure: paired when the seeds match, over
    the figures' units when both are single runs."""
    return [{k.key: _difference(sides[0], s, k.key) for k in KPIS} for s in sides[1:]]


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
                "warning": few_replicates(len(s.replicates)) if s.kind == "runset" else "",
                "kpis": _side_kpis(s),
            }
            for s in sides
        ],
        "differences": [
            {
                "label": s.label,
                "against": sides[0].label,
                "paired": paired(sides[0], s),
                "over": "units" if over_units(sides[0], s) else "replicates",
                "kpis": {key: _difference_json(sides[0], s, key, e) for key, e in d.items()},
            }
            for s, d in zip(sides[1:], diffs, strict=True)
        ],
    }


def _side_kpis(s: Side) -> dict[str, Any]:
    """Each figure as {mean, ci_low, ci_high}: a single run's interval over its n units (named)."""
    if s.kind == "run":
        return {k.key: k.units(s.first).as_json() for k in KPIS}
    return {key: {**e.as_json(), "replicates": e.n} for key, e in s.estimates().items()}


def _difference_json(base: Side, other: Side, key: str, e: Estimate) -> dict[str, Any]:
    """A difference with its interval, whether it holds 0, and whether this sample can tell it from 0
    at all (``undecided``: the interval holds 0, or there is none); over units, each side's n."""
    out = {**e.as_json(), "holds_zero": e.holds_zero(), "undecided": units.undecided(e)}
    if over_units(base, other):
        counted = KPI_BY_KEY[key].units
        a, b = counted(base.first), counted(other.first)
        out |= {"n_base": a.n, "n": b.n, "unit": a.unit, "method": units.METHODS[a.kind]}
    return out


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
        shown = [f"#{esc(fmt(k, e[k.key].mean))}{bounds(k, e[k.key], False)}" for e in estimates]
        rows.append(tr(esc(k.label), *shown, *(difference(k, d[k.key]) for d in diffs)))
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
    few = [s for s in sides if len(s.replicates) < MIN_REPLICATES]
    warning = (
        "<div class='warning' role='note'><strong>Read with care:</strong> "
        + esc("; ".join(f"{s.label}: {few_replicates(len(s.replicates))}" for s in few))
        + ". A single run gives no interval; its differences are one draw of chance.</div>"
        if few
        else ""
    )
    legend = (
        f"<p><small>{esc(origin)}<br>Means over replicates with their 95% interval in brackets (Student's "
        "t on the logit scale for shares, on the log scale for counts and amounts, so that no interval "
        "leaves the figure's range; cut at the bound when a replicate sits on it). "
        f'<span style="{NOISE_STYLE}">~ Greyed differences</span>: their interval holds 0, so these runs '
        "do not tell them apart from noise. " + esc(" ".join(notes)) + "</small></p>"
    )
    return warning + table(head, rows) + legend
