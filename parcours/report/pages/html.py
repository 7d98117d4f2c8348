"""The page: sections in a fixed order, each a figure, the numbers in words, and tables.

Everything is inline (CSS, PNG images as base64): the file opens anywhere, offline, and refers to
nothing outside itself.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from parcours.report.numbers.summary import RunSummary
from parcours.report.realism.assess import Finding
from parcours.report.realism.references import Reference
from parcours.report.realism.text import counts_text, value_text

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
       background: #fafafa; line-height: 1.45; }
main { max-width: 1340px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.4rem; border-bottom: 2px solid #4e79a7; padding-bottom: 0.2rem; }
nav { font-size: 0.9rem; margin: 0.5rem 0 1rem; }
nav a { margin-right: 0.9rem; color: #4e79a7; text-decoration: none; }
p.lead { color: #555; margin: 0.2rem 0 0.6rem; max-width: 70rem; }
img { max-width: 100%; height: auto; background: white; border: 1px solid #ddd; }
ul.facts { margin: 0.5rem 0; padding-left: 1.2rem; }
ul.facts li { margin: 0.15rem 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; background: white; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.inside { color: #2e7d32; font-weight: bold; }
.outside { color: #c62828; font-weight: bold; }
.too-few-to-check, .not-checkable-on-this-run { color: #777; font-weight: bold; }
.shown, .input { color: #4e79a7; font-weight: bold; }
small { color: #666; }
p.empty { font-style: italic; color: #666; }
h3 { font-size: 1rem; margin: 1rem 0 0.2rem; }
figure.sankey { margin: 0.4rem 0; max-width: 960px; background: white; border: 1px solid #ddd; }
figure.sankey figcaption { font-size: 0.85rem; color: #555; padding: 0 0.5rem 0.3rem; }
div.sankeys { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 0.5rem; }
details summary { cursor: pointer; color: #4e79a7; margin: 0.3rem 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
.warning { background: #fff4e5; border-left: 4px solid #f28e2b; padding: 0.4rem 0.8rem; margin: 0.6rem 0;
           max-width: 70rem; }
.warning ul { margin: 0.2rem 0; }
"""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    lead: str
    image: str | None = None  # base64 PNG
    facts: Sequence[str] = ()
    table: str = ""  # ready-made HTML
    empty: str = ""  # what to say instead of a figure when there is nothing to draw


def esc(text: object) -> str:
    return html.escape(str(text))


def tr(*cells: str, head: bool = False) -> str:
    """A table row from cells already escaped; a cell starting with '#' is a number, right-aligned."""
    tag = "th" if head else "td"
    out = []
    for c in cells:
        out.append(f'<td class="num">{c[1:]}</td>' if c.startswith("#") else f"<{tag}>{c}</{tag}>")
    return "<tr>" + "".join(out) + "</tr>"


def table(head: Sequence[str], rows: Sequence[str]) -> str:
    return "<table>" + tr(*(esc(h) for h in head), head=True) + "".join(rows) + "</table>"


def _verdict_cell(f: Finding) -> str:
    css = f.verdict.replace(" ", "-")
    cell = f'#{esc(value_text(f))} <span class="{css}">{esc(f.verdict)}</span>'
    if f.reason:
        cell += f"<br><small>{esc(f.reason)}</small>"
    elif counts_text(f):
        cell += f"<br><small>{esc(counts_text(f))}</small>"
    return cell


def _published_cell(ref: Reference) -> str:
    cell = esc(ref.published)
    if ref.has_range:
        cell += f"<br>range: <b>{esc(ref.shown_range())}</b>"
    cell += (
        f"<br><small>Source: {esc(ref.source)}. Period: {esc(ref.period)}. "
        f"Population: {esc(ref.population)}.</small>"
    )
    if ref.caveat:
        cell += f"<br><small><i>{esc(ref.caveat)}</i></small>"
    return cell


def realism_table(runs: Sequence[RunSummary]) -> str:
    """One row per published figure, one column per run; the same findings as `parcours realism`."""
    rows = []
    for i, f in enumerate(runs[0].findings):
        ref = f.reference
        rows.append(
            tr(
                f"<b>{esc(ref.id)} {esc(ref.label)}</b> <small>({esc(ref.kind)})</small>"
                f"<br><small>{esc(ref.definition)}. {esc(ref.remarks)}</small>",
                _published_cell(ref),
                *(_verdict_cell(r.findings[i]) for r in runs),
            )
        )
    return (
        "<div class='table-wrap'>" + table(["figure", "published", *(r.label for r in runs)], rows) + "</div>"
    )


def run_table(runs: Sequence[RunSummary]) -> str:
    rows = []
    for r in runs:
        sc = r.manifest.scenario
        start = sc.calendar.start
        rows.append(
            tr(
                f"<b>{esc(r.label)}</b>",
                esc(r.path),
                esc(sc.integration or "?"),
                f"#{r.customers:,}",
                f"#{r.manifest.counts.events:,}",
                esc(f"{start}, {r.days} day(s), {r.calendar.timezone}"),
                f"#{esc('?' if r.manifest.seed is None else r.manifest.seed)}",
            )
        )
    return table(["run", "directory", "integration", "customers", "events", "days", "seed"], rows)


def section_html(s: Section) -> str:
    parts = [f'<section id="{s.id}"><h2>{esc(s.title)}</h2><p class="lead">{esc(s.lead)}</p>']
    if s.image:
        parts.append(f'<img alt="{esc(s.title)}" src="data:image/png;base64,{s.image}">')
    elif s.empty:
        parts.append(f'<p class="empty">{esc(s.empty)}</p>')
    if s.facts:
        parts.append('<ul class="facts">' + "".join(f"<li>{esc(f)}</li>" for f in s.facts) + "</ul>")
    parts.append(s.table + "</section>")
    return "\n".join(parts)


def page(title: str, runs: Sequence[RunSummary], sections: Sequence[Section]) -> str:
    nav = "".join(f'<a href="#{s.id}">{esc(s.title)}</a>' for s in sections)
    body = "\n".join(section_html(s) for s in sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body><main>"
        f"<h1>{esc(title)}</h1>{run_table(runs)}<nav>{nav}</nav>\n{body}\n</main></body></html>\n"
    )
