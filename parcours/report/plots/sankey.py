"""A journey flow diagram (Sankey) as inline SVG: research -> purchase -> after-sale channel.

Drawn as text in the page (no script, no font or library fetched), so it opens offline and scales with
the window. Each band's width is its journeys; bands of at least ``LABEL_SHARE`` of a stage carry their
count, every band says its count on hover (an SVG ``<title>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

from parcours.report.numbers.routes import NO_PURCHASE, STAGES

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6", "#8cd17d", "#d37295",
)  # fmt: skip
GREY = "#bab0ac"
WIDTH, BANDS, NODE_W, PITCH, TOP = 760.0, 240.0, 14.0, 14.0, 26.0  # PITCH: room for a label
COLUMNS = (150.0, 380.0, 610.0)  # x of each stage's nodes: labels need room on both sides
LABEL_SHARE = 0.04


@dataclass(frozen=True)
class _Node:
    stage: int
    index: int
    y: float
    height: float
    count: int


def _colour(nodes: list[str], index: int) -> str:
    return GREY if nodes[index] == NO_PURCHASE else PALETTE[index % len(PALETTE)]


def _place(totals: np.ndarray, stage: int, scale: float) -> dict[int, _Node]:
    """Nodes largest first, each at least a label's height below the last."""
    order = [int(i) for i in np.argsort(-totals, kind="stable") if totals[i] > 0]
    y, out = TOP, {}
    for i in order:
        h = max(float(totals[i]) * scale, 1.0)
        out[i] = _Node(stage, i, y, h, int(totals[i]))
        y += max(h + 4, PITCH)
    return out


def _band(x0: float, y0: float, x1: float, y1: float, h: float, colour: str, title: str) -> str:
    mid = (x0 + x1) / 2
    path = (
        f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
        f"L{x1:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} {mid:.1f},{y0 + h:.1f} {x0:.1f},{y0 + h:.1f} Z"
    )
    return f'<path d="{path}" fill="{colour}" fill-opacity="0.45"><title>{escape(title)}</title></path>'


def sankey_svg(links: np.ndarray, nodes: list[str], caption: str) -> str:
    """links[0]: research -> purchase, links[1]: purchase -> after-sale, journeys per (from, to) node."""
    totals = [links[0].sum(axis=1), links[0].sum(axis=0), links[1].sum(axis=0)]
    biggest = max(float(t.sum()) for t in totals)
    if biggest == 0:
        return f"<p class='empty'>{escape(caption)}: no journey to draw.</p>"
    scale = BANDS / biggest
    placed = [_place(t, s, scale) for s, t in enumerate(totals)]
    height = max(n.y + max(n.height, PITCH) for column in placed for n in column.values()) + 4
    parts: list[str] = []
    for step in range(2):
        out_at = {i: n.y for i, n in placed[step].items()}
        in_at = {i: n.y for i, n in placed[step + 1].items()}
        for a in placed[step]:
            for b in sorted(placed[step + 1], key=lambda i: placed[step + 1][i].y):
                count = int(links[step, a, b])
                if not count:
                    continue
                h = max(count * scale, 0.5)
                x0, x1 = COLUMNS[step] + NODE_W, COLUMNS[step + 1]
                title = f"{nodes[a]} ({STAGES[step]}) -> {nodes[b]} ({STAGES[step + 1]}): {count:,} journeys"
                parts.append(_band(x0, out_at[a], x1, in_at[b], h, _colour(nodes, a), title))
                if count >= LABEL_SHARE * float(links[step].sum()) and h >= 9:
                    ym = out_at[a] + h / 2 + 3.5  # at the band's start, where bands do not cross yet
                    parts.append(f'<text x="{x0 + 4:.1f}" y="{ym:.1f}" class="count">{count:,}</text>')
                out_at[a] += h
                in_at[b] += h
    for s, column in enumerate(placed):
        x = COLUMNS[s]
        for n in column.values():
            colour = _colour(nodes, n.index)
            parts.append(
                f'<rect x="{x:.1f}" y="{n.y:.1f}" width="{NODE_W}" height="{n.height:.1f}" fill="{colour}">'
                f"<title>{escape(nodes[n.index])}: {n.count:,} journeys</title></rect>"
            )
            left = s == 0
            tx = x - 4 if left else x + NODE_W + 4
            anchor = "end" if left else "start"
            ty = n.y + n.height / 2 + 4
            parts.append(
                f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}">'
                f"{escape(nodes[n.index])} {n.count:,}</text>"
            )
        head = f"{STAGES[s]} channel ({int(totals[s].sum()):,})"
        parts.append(
            f'<text x="{x + NODE_W / 2:.1f}" y="14" text-anchor="middle" class="stage">{head}</text>'
        )
    return (
        f'<figure class="sankey"><svg viewBox="0 0 {WIDTH:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(caption)}">'
        "<style>text{font:11px sans-serif;fill:#222}.count{font-size:10px;fill:#000}"
        ".stage{font-weight:bold}</style>"
        + "".join(parts)
        + f"</svg><figcaption>{escape(caption)}</figcaption></figure>"
    )
