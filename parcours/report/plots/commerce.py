"""The funnel and conversion, revenue and basket, and what became of stock-outs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from parcours.report.numbers.commerce import FUNNEL
from parcours.report.numbers.summary import RunSummary
from parcours.report.plots.style import figure, grouped_offsets, persona_colour, png_base64, run_colour
from parcours.report.plots.usage import used_channels


def _grouped_bars(
    ax: Axes,
    names: Sequence[str],
    values: Sequence[np.ndarray],
    runs: Sequence[RunSummary],
    horizontal: bool = False,
) -> None:
    """One bar per run in each group, runs in their colours."""
    x = np.arange(len(names))
    width = 0.8 / len(runs)
    for i, (run, v) in enumerate(zip(runs, values, strict=True)):
        pos = x + grouped_offsets(len(runs))[i]
        if horizontal:
            ax.barh(pos, v, width, color=run_colour(i), label=run.label)
        else:
            ax.bar(pos, v, width, color=run_colour(i), label=run.label)
    if horizontal:
        ax.set_yticks(x, names)
        ax.invert_yaxis()
    else:
        ax.set_xticks(x, names, rotation=30, ha="right")
    if len(runs) > 1:
        ax.legend()


#: A persona x channel cell with fewer sessions than this is greyed: its rate is mostly noise.
MIN_CELL_SESSIONS = 30


def funnel(runs: Sequence[RunSummary]) -> str:
    """Funnel stages per day, sessions with an order per channel, and per channel and persona.

    Per channel, "sessions with an order" is the online session conversion on the own site and app,
    and the store-visit conversion (pick-up and return visits included) in store.
    """
    chans = used_channels(runs, [r.funnel[..., 0] for r in runs])
    with figure(4.2 + 2.8 * len(runs)) as fig:
        top, bottom = fig.subfigures(2, 1, height_ratios=(4.2, 2.8 * len(runs)), squeeze=False)[:, 0]
        left, right = top.subfigures(1, 2, width_ratios=(2, 3))
        _stages(left, runs)
        conversion = right.subplots()
        rates = [_conversion(r.funnel.sum(axis=0))[chans] * 100 for r in runs]
        _grouped_bars(conversion, [runs[0].channels[c] for c in chans], rates, runs)
        conversion.set_ylabel("% of sessions with an order")
        conversion.set_title("Sessions with an order, per channel (session or visit conversion)")
        axes = bottom.subplots(len(runs), 1, squeeze=False, sharex=True)[:, 0]
        for ax, run in zip(axes, runs, strict=True):
            _conversion_map(ax, run, chans)
        return png_base64(fig)


def _stages(fig: Any, runs: Sequence[RunSummary]) -> None:
    """One small panel per funnel stage, each on its own linear scale from 0, so that a difference
    between runs shows at every stage (a shared log scale flattens a +21% into a hairline)."""
    axes = fig.subplots(1, len(FUNNEL), sharey=False)
    fig.suptitle("Funnel per day: sessions, carts, orders, pickups, returns", fontsize=11, fontweight="bold")
    for s, (ax, stage) in enumerate(zip(axes, FUNNEL, strict=True)):
        values = [float(r.funnel[..., s].sum()) / r.days for r in runs]
        ax.bar(range(len(runs)), values, color=[run_colour(i) for i in range(len(runs))], width=0.7)
        for i, v in enumerate(values):
            text = f"{v:,.0f}"
            if i and values[0]:
                text += f" ({(v - values[0]) / values[0]:+.0%})"
            ax.annotate(
                text,
                (i, v),
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=8,
                xytext=(0, 3),
                textcoords="offset points",
            )
        ax.set_ylim(0, max(max(values) * 1.7, 1))  # room for the upright labels
        ax.set_xticks([])
        ax.set_xlabel(stage)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.tick_params(axis="y", labelsize=7)
    if len(runs) > 1:
        handles = [Patch(color=run_colour(i), label=r.label) for i, r in enumerate(runs)]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(runs), fontsize=8)


def _conversion(f: np.ndarray) -> np.ndarray:
    """Orders over sessions along the last-but-one axis of a [..., stage] funnel."""
    return np.asarray(f[..., 2] / np.maximum(f[..., 0], 1))


def _conversion_map(ax: Axes, run: RunSummary, chans: list[int]) -> None:
    """Rates with their counts; cells under MIN_CELL_SESSIONS sessions greyed, so that 1 of 1 does not
    paint darkest; the colour scale stops at the best reliable cell and text flips white on dark cells."""
    sessions = run.funnel[:, chans, 0]
    orders = run.funnel[:, chans, 2]
    rate = _conversion(run.funnel[:, chans])  # [persona, channel]
    reliable = sessions >= MIN_CELL_SESSIONS
    top = max(float(rate[reliable].max()) if reliable.any() else 0.0, 0.01)
    shown = np.ma.masked_where(~reliable, rate)
    cmap = matplotlib.colormaps["Greens"].with_extremes(bad="#e6e6e6")
    ax.imshow(shown, cmap=cmap, vmin=0, vmax=top, aspect="auto")
    ax.grid(False)
    for (i, k), v in np.ndenumerate(rate):
        if not sessions[i, k]:
            continue
        dark = reliable[i, k] and v / top > 0.6
        colour = "white" if dark else ("#222" if reliable[i, k] else "#888")
        text = f"{v:.0%}\n{int(orders[i, k]):,}/{int(sessions[i, k]):,}"
        ax.text(k, i, text, ha="center", va="center", fontsize=7.5, color=colour, linespacing=1.1)
    ax.set_xticks(range(len(chans)), [run.channels[c] for c in chans])
    ax.set_yticks(range(len(run.personas)), run.personas)
    ax.set_title(
        f"{run.label}: % of sessions with an order (orders/sessions), by persona and channel; "
        f"grey: under {MIN_CELL_SESSIONS} sessions, blank: none"
    )


def revenue(runs: Sequence[RunSummary]) -> str:
    """Revenue per channel (stacked by persona for one run), per persona, and the basket's distribution."""
    chans = used_channels(runs, [r.sales.revenue_cents for r in runs])
    names = [runs[0].channels[c] for c in chans]
    with figure(4.4) as fig:
        by_channel, by_persona, basket = fig.subplots(1, 3, width_ratios=(3, 2, 2))
        if len(runs) == 1:
            _stacked_by_persona(by_channel, runs[0], chans)
        else:
            _grouped_bars(
                by_channel,
                names,
                [r.sales.revenue_cents[:, chans].sum(axis=0) / 100 / r.days for r in runs],
                runs,
            )
        by_channel.set_ylabel("€ per day (purchases)")
        by_channel.set_title("Revenue per channel")
        _grouped_bars(
            by_persona,
            runs[0].personas,
            [r.sales.revenue_cents.sum(axis=1) / 100 / r.days for r in runs],
            runs,
        )
        by_persona.set_ylabel("€ per day (purchases)")
        by_persona.set_title("Revenue per persona")
        _basket(basket, runs)
        return png_base64(fig)


def _stacked_by_persona(ax: Axes, run: RunSummary, chans: list[int]) -> None:
    bottom = np.zeros(len(chans))
    for p, persona in enumerate(run.personas):
        v = run.sales.revenue_cents[p, chans] / 100 / run.days
        ax.bar(range(len(chans)), v, bottom=bottom, color=persona_colour(p), label=persona)
        bottom += v
    ax.set_xticks(range(len(chans)), [run.channels[c] for c in chans], rotation=30, ha="right")
    ax.legend()


def _basket(ax: Axes, runs: Sequence[RunSummary]) -> None:
    values = [r.sales.basket_cents / 100 for r in runs]
    top = max((float(np.percentile(v, 99)) for v in values if len(v)), default=1.0)
    bins = [float(b) for b in np.linspace(0, top, 40)]
    for i, (run, v) in enumerate(zip(runs, values, strict=True)):
        if len(v):
            ax.hist(
                np.clip(v, 0, top),
                bins=bins,
                histtype="step",
                linewidth=1.8,
                color=run_colour(i),
                density=True,
                label=f"{run.label}: mean €{v.mean():,.2f}",
            )
    ax.set_xlabel("€ per purchase (top 1% in the last bin)")
    ax.set_ylabel("share of purchases per €")
    ax.set_title("Basket size")
    ax.legend()


def stockouts(runs: Sequence[RunSummary]) -> str | None:
    """Journeys that met a stock-out, by what became of them; None when no journey met one."""
    if not any(r.stockouts.journeys for r in runs):
        return None
    fates: list[str] = []
    for r in runs:
        fates += [f for f in r.stockouts.fate if f not in fates and r.stockouts.fate[f] > 0]
    with figure(1.4 + 0.35 * max(len(fates), 2) * max(len(runs), 2) / 2, 9.0) as fig:
        ax = fig.subplots()
        shares = [
            np.array([r.stockouts.fate.get(f, 0) for f in fates]) / max(r.stockouts.journeys, 1) * 100
            for r in runs
        ]
        _grouped_bars(ax, fates, shares, runs, horizontal=True)
        ax.set_xlabel("% of journeys that met a stock-out")
        ax.set_title("After a stock-out")
        return png_base64(fig)
