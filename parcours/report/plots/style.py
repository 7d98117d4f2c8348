"""One look for every figure, and the one way a figure becomes an inlined PNG.

Figures are built with ``matplotlib.figure.Figure`` and drawn on the Agg canvas: no pyplot, no global
figure registry, no display needed, nothing left open between reports.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never a window, even if something else imports pyplot

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDTH_IN = 13.0  # about 1300 px at DPI: fits a laptop screen without scrolling sideways
DPI = 100
RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
PERSONA_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
TYPOLOGY_COLOURS = ("#bab0ac", "#76b7b2", "#4e79a7")
RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


@contextmanager
def figure(height_in: float, width_in: float = WIDTH_IN) -> Iterator[Figure]:
    """A figure in the house style; rc settings apply while it is drawn, so draw inside the block."""
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]  # the stubs want literal keys
        fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG, ready for ``<img src="data:image/png;base64,...">``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})  # no URL, even hidden
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def run_colour(i: int) -> str:
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def run_width(i: int) -> float:
    """Line width of run i: each later run thinner and drawn on top, so identical runs all show (the
    first as a halo around the next) instead of hiding behind the last line."""
    return max(3.4 - 0.9 * i, 1.0)


def persona_colour(i: int) -> str:
    return PERSONA_COLOURS[i % len(PERSONA_COLOURS)]


def hour_axis(ax: Axes, label: str = "hour of day (local time)") -> None:
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlim(-0.5, 23.5)
    ax.set_xlabel(label)


def grouped_offsets(n: int, width: float = 0.8) -> Sequence[float]:
    """Bar offsets for ``n`` bars side by side in a group of total ``width``."""
    step = width / n
    return [(i - (n - 1) / 2) * step for i in range(n)]


def legend_below(ax: Axes, columns: int = 2) -> None:
    """The legend under the axes, where it cannot sit on a line (the constrained layout makes room)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=columns, fontsize=8)
