"""The realism check: a run's figures next to published ones, as `parcours realism` and the report show it.

Each published figure (references.toml) is computed on the run as its source defines it (figures.py,
flows.py), then judged by its 95% interval (stats.py): inside, outside, too few to check, or not
checkable on this run (too short, wrong integration level, nothing of the kind happened). Figures the
sources do not let us check are shown; model inputs are shown as inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from parcours.output.reader import Run
from parcours.report.columns.events import Calendar, Vocab
from parcours.report.columns.scan import Scan, scan
from parcours.report.realism.basis import Basis
from parcours.report.realism.references import KINDS, Reference, load_references
from parcours.report.realism.stats import INPUT, NOT_CHECKABLE, OUTSIDE, SHOWN, Measure, unavailable, verdict

TEXT_HEAD = "parcours realism: "
JSON_MARK = "parcours_realism"


@dataclass(frozen=True)
class Finding:
    reference: Reference
    measure: Measure
    verdict: str

    @property
    def reason(self) -> str:
        return self.measure.unavailable


def _requirement(ref: Reference, b: Basis) -> str:
    """Why this run cannot give the figure as its source defines it ("" when it can)."""
    if b.calendar.days < ref.min_days:
        return f"needs a run of {ref.min_days} days or more (this one has {b.calendar.days})"
    if ref.levels and b.integration not in ref.levels:
        return f"applies to {' and '.join(ref.levels)} only (this run is {b.integration or 'of no level'})"
    return ""


def find(ref: Reference, b: Basis) -> Finding:
    why = _requirement(ref, b)
    measure = unavailable(why) if why else KINDS[ref.kind][ref.key](b)
    if not ref.checked:
        shown_as = INPUT if ref.kind == "input" else SHOWN
        return Finding(ref, measure, shown_as if measure.available else NOT_CHECKABLE)
    return Finding(ref, measure, verdict(measure, ref.low, ref.high))


def assess(basis: Basis, references: list[Reference] | None = None) -> list[Finding]:
    refs = references if references is not None else load_references()
    return [find(ref, basis) for ref in refs]


def assess_run(run: Run, references: list[Reference] | None = None) -> tuple[Basis, list[Finding]]:
    """Read the run's events once and judge every figure."""
    calendar = Calendar.of(run.manifest)
    vocab = Vocab.for_runs([run])
    found: Scan = scan(run, vocab, calendar)
    basis = Basis(found, vocab, calendar, run.manifest)
    return basis, assess(basis, references)


def outside(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict == OUTSIDE]


def _num(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 6)


def finding_document(f: Finding) -> dict[str, Any]:
    """One figure as JSON: what it is, its value and interval, the verdict, and the published side."""
    r, m = f.reference, f.measure
    return {
        "id": r.id,
        "key": r.key,
        "kind": r.kind,
        "label": r.label,
        "verdict": f.verdict,
        "reason": m.unavailable or None,
        "value": _num(m.value),
        "interval_95": None if math.isnan(m.low) else [_num(m.low), _num(m.high)],
        "numerator": _num(m.numerator),
        "denominator": _num(m.denominator),
        "definition": r.definition,
        "published": r.published,
        "range": [r.low, r.high] if r.has_range else None,
        "source": r.source,
        "period": r.period,
        "population": r.population,
        "confidence": r.confidence,
        "caveat": r.caveat or None,
        "min_days": r.min_days,
        "levels": list(r.levels) or None,
    }


def run_document(b: Basis, run_path: str, findings: list[Finding]) -> dict[str, Any]:
    sc = b.scenario
    return {
        JSON_MARK: 1,
        "run": run_path,
        "scenario": sc.name,
        "integration": sc.integration,
        "customers": b.customers,
        "start": b.first_date.isoformat(),
        "days": b.calendar.days,
        "outside": [f.reference.id for f in outside(findings)],
        "figures": [finding_document(f) for f in findings],
    }
