"""`parcours realism` as text: each figure with its value, verdict and the published figure beside it."""

from __future__ import annotations

import math
import textwrap
from collections import Counter

from parcours.report.realism.assess import TEXT_HEAD, Finding
from parcours.report.realism.basis import Basis
from parcours.report.realism.stats import INPUT, INSIDE, NOT_CHECKABLE, OUTSIDE, SHOWN, TOO_FEW

ORDER = (OUTSIDE, TOO_FEW, INSIDE, NOT_CHECKABLE, SHOWN, INPUT)
WIDTH = 100


def value_text(f: Finding) -> str:
    r, m = f.reference, f.measure
    if not m.available:
        return "n/a"
    text = r.show(m.value)
    if not m.exact and not math.isnan(m.low):
        text += f" [{r.show(m.low)}, {r.show(m.high)}]"
    return text


def counts_text(f: Finding) -> str:
    m = f.measure
    if not m.available or math.isnan(m.numerator) or math.isnan(m.denominator):
        return ""
    return f"{m.numerator:,.0f} / {m.denominator:,.0f}"


def _wrap(label: str, text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=f"    {label}: ", subsequent_indent=" " * 6)


def finding_text(f: Finding) -> list[str]:
    r = f.reference
    head = f"{f.verdict.upper():<26} {r.id:<12} {r.label}: {value_text(f)}"
    lines = [head]
    if f.reason:
        lines += _wrap("why", f.reason)
    counts = counts_text(f)
    lines += _wrap("computed", f"{r.definition}" + (f" = {counts}" if counts else ""))
    published = r.published + (f" (range {r.shown_range()})" if r.has_range else "")
    lines += _wrap("published", published)
    lines += _wrap("source", f"{r.source}; period: {r.period}; population: {r.population}")
    if r.caveat:
        lines += _wrap("note", r.caveat)
    return lines


def header(b: Basis, path: str) -> str:
    sc = b.scenario
    return (
        f"{TEXT_HEAD}{path} (scenario {sc.name or '?'}, {sc.integration or '?'}, "
        f"{b.customers:,} customers, {b.calendar.days} day(s) from {b.first_date.isoformat()})"
    )


def report_text(b: Basis, path: str, findings: list[Finding]) -> str:
    ranked = sorted(findings, key=lambda f: ORDER.index(f.verdict))
    blocks = [header(b, path), ""]
    for f in ranked:
        blocks += [*finding_text(f), ""]
    tally = Counter(f.verdict for f in findings)
    blocks.append(", ".join(f"{tally[v]} {v}" for v in ORDER if tally[v]))
    return "\n".join(blocks) + "\n"
