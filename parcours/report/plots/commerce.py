"""The funnel and conversion, revenue and basket, and what became of stock-outs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.ticker import FuncFormatter

from parcours.report.commerce import FUNNEL
from parcours.report.plots.style import figure, grouped_offsets, persona_colour, png_base64, run_colour
from parcours.report.plots.usage import used_channels
from parcours.report.summary import RunSummary


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


def funnel(runs: Sequence[RunSummary]) -> str:
    """Funnel stages per day, sessions with an order per channel, and per channel and persona.

    Per channel, "sessions with an order" is the online session conversion on the own site and app,
    and the store-visit conversion (pick-up and return visits included) in store.
    """
    chans = used_channels(runs, [r.funnel[..., 0] for r in runs])
    with figure(4.2 + 2.8 * len(runs)) as fig:
        top, bottom = fig.subfigures(2, 1, height_ratios=(4.2, 2.8 * len(runs)), squeeze=False)[:, 0]
        stages, conversion = top.subplots(1, 2, width_ratios=(2, 3))
        _grouped_bars(stages, FUNNEL, [r.funnel.sum(axis=(0, 1)) / r.days for r in runs], runs)
        for bars in stages.containers:
            if isinstance(bars, BarContainer):
                stages.bar_label(bars, fmt="{:,.0f}", fontsize=8)
        stages.set_yscale("symlog", linthresh=10)
        stages.set_ylim(0, max(float(r.funnel[..., 0].sum()) / r.days for r in runs) * 4)  # room for labels
        stages.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        stages.set_ylabel("per day (log scale)")
        stages.set_title("Funnel: sessions, carts, orders, pickups, returns")
        rates = [_conversion(r.funnel.sum(axis=0))[chans] * 100 for r in runs]
        _grouped_bars(conversion, [runs[0].channels[c] for c in chans], rates, runs)
        conversion.set_ylabel("% of sessions with an order")
        conversion.set_title("Sessions with an order, per channel (session or visit conversion)")
        axes = bottom.subplots(len(runs), 1, squeeze=False, sharex=True)[:, 0]
        for ax, run in zip(axes, runs, strict=True):
            _conversion_map(ax, run, chans)
        return png_base64(fig)


def _conversion(f: np.ndarray) -> np.ndarray:
    """Orders over sessions along the last-but-one axis of a [..., stage] funnel."""
    return np.asarray(f[..., 2] / np.maximum(f[..., 0], 1))


def _conversion_map(ax: Axes, run: RunSummary, chans: list[int]) -> None:
    rate = _conversion(run.funnel[:, chans])  # [persona, channel]
    ax.imshow(rate * 100, cmap="Greens", vmin=0, vmax=max(float(rate.max()) * 100, 1), aspect="auto")
    ax.grid(False)
    for (i, k), v in np.ndenumerate(rate):
        if run.funnel[i, chans[k], 0]:
            ax.text(k, i, f"{v:.0%}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(chans)), [run.channels[c] for c in chans])
    ax.set_yticks(range(len(run.personas)), run.personas)
    ax.set_title(f"{run.label}: % of sessions with an order, by persona and channel (blank: no session)")


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
