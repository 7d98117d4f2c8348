"""The headline numbers as JSON, for scripts: every figure the page states, by name, NaN as null."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from parcours.report.columns.journeys import TYPOLOGY
from parcours.report.numbers.commerce import FUNNEL
from parcours.report.numbers.kpis import ALIASES, headline
from parcours.report.numbers.queues import PERCENTILES, QueueStats
from parcours.report.numbers.summary import RunSummary
from parcours.report.realism.assess import Finding, finding_document

FORMAT_VERSION = 1


def _num(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 6)


def _queue(q: QueueStats, days: int) -> dict[str, Any]:
    pct = np.percentile(q.waits, PERCENTILES) if q.total else [math.nan] * len(PERCENTILES)
    return {
        "per_day": _num(q.total / days),
        "abandonment": _num(q.abandonment() if q.total else math.nan),
        "mean_wait_s": _num(float(np.mean(q.waits)) if q.total else math.nan),
        **{f"wait_p{p}_s": _num(v) for p, v in zip(PERCENTILES, pct, strict=True)},
    }


def _per_persona_channel(r: RunSummary) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p, persona in enumerate(r.personas):
        out[persona] = {
            r.channels[c]: {
                **dict(zip(FUNNEL, map(int, r.funnel[p, c]), strict=True)),
                "revenue_eur": round(int(r.sales.revenue_cents[p, c]) / 100, 2),
            }
            for c in range(len(r.channels))
            if r.funnel[p, c].any() or r.sales.revenue_cents[p, c]
        }
    return out


def _kpis(values: dict[str, float]) -> dict[str, float | None]:
    """The headline numbers by key, and renamed ones under their format-1 name too."""
    out = {k: _num(v) for k, v in values.items()}
    return {**out, **{old: out[new] for old, new in ALIASES.items()}}


def _realism(f: Finding) -> dict[str, Any]:
    """A realism finding, with the format-1 names (metric, low, high) kept beside the new ones."""
    low, high = (f.reference.low, f.reference.high) if f.reference.has_range else (None, None)
    return {**finding_document(f), "metric": f.reference.key, "low": low, "high": high}


def run_document(r: RunSummary) -> dict[str, Any]:
    t = r.typology
    return {
        "label": r.label,
        "path": r.path,
        "scenario": r.manifest.scenario.name,
        "integration": r.manifest.scenario.integration,
        "customers": r.customers,
        "days": r.days,
        "kpis": _kpis(headline(r)),
        "typology": {
            persona: {
                "customer_days": int(t.counts[p].sum()),
                **{
                    kind: _num(t.counts[p, k] / t.counts[p].sum() if t.counts[p].sum() else math.nan)
                    for k, kind in enumerate(TYPOLOGY)
                },
                "channels_per_day": _num(float(t.channels_per_day[p])),
            }
            for p, persona in enumerate(r.personas)
        },
        "funnel": _per_persona_channel(r),
        "stockouts": {
            "journeys": r.stockouts.journeys,
            "fate": r.stockouts.fate,
            "lost_value_eur": _num(r.stockouts.lost_value_cents / 100),
        },
        "calls": _queue(r.calls, r.days),
        "chats": _queue(r.chats, r.days),
        "stores": {
            "visits_per_day": _num(float(r.stores.visits.sum())),
            "peak_occupancy": _num(float(r.stores.occupancy.max())),
            "staff_wait": _queue(r.stores.assist, r.days),
        },
        "realism": [_realism(f) for f in r.findings],
    }


def json_report(runs: Sequence[RunSummary], extra: dict[str, Any] | None = None) -> str:
    """One document per run, deltas against the first; ``extra`` (means and intervals of run sets) added."""
    documents = [run_document(r) for r in runs]
    base = documents[0]["kpis"]
    deltas = [
        {
            "label": d["label"],
            "against": documents[0]["label"],
            "kpis": {
                k: (None if v is None or base[k] is None else round(v - base[k], 6))
                for k, v in d["kpis"].items()
            },
        }
        for d in documents[1:]
    ]
    doc = {"format_version": FORMAT_VERSION, "runs": documents, "deltas": deltas, **(extra or {})}
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"
