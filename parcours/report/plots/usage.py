"""Channel use by hour and persona, channel-to-channel moves, and the typology of customer-days."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm

from parcours.report.columns.journeys import TYPOLOGY
from parcours.report.numbers.summary import RunSummary
from parcours.report.plots.style import TYPOLOGY_COLOURS, figure, hour_axis, png_base64, run_colour

DAY_TYPES = ("weekdays", "weekend")


def used_channels(runs: Sequence[RunSummary], counts: Sequence[np.ndarray]) -> list[int]:
    """Channels with anything in any run, in vocabulary order; ``counts`` are [..., channel] arrays."""
    total = sum(c.reshape(-1, c.shape[-1]).sum(axis=0) for c in counts)
    return [i for i in range(len(runs[0].channels)) if total[i] > 0]


def _day_types(run: RunSummary) -> list[int]:
    weekend = run.calendar.weekend()
    return [t for t, present in enumerate((bool((~weekend).any()), bool(weekend.any()))) if present]


def channel_use(runs: Sequence[RunSummary]) -> str:
    """Heatmaps of sessions per day, channel by hour: one column per persona, one row per run and day
    type. In a comparison, the runs after the first show their difference from the first run (blue:
    fewer sessions, red: more), since side-by-side heatmaps of similar runs look identical."""
    rows = [(r, t) for r in runs for t in _day_types(r)]
    chans = used_channels(runs, [r.sessions_by_hour.sum(axis=(0, 1)).T for r in runs])
    personas = runs[0].personas
    base = runs[0]
    vmax = float(base.sessions_by_hour.max()) or 1.0
    diffs = [
        r.sessions_by_hour[t] - base.sessions_by_hour[t]
        for r, t in rows
        if r is not base and t in _day_types(base)
    ]
    dmax = max([float(np.abs(d).max()) for d in diffs] + [1.0])
    with figure(0.8 + 2.9 * len(rows)) as fig:
        axes = fig.subplots(len(rows), len(personas), squeeze=False, sharex=True, sharey=True)
        absolute = difference = None
        for row, (run, t) in enumerate(rows):
            as_difference = run is not base and t in _day_types(base)
            for col, persona in enumerate(personas):
                ax = axes[row][col]
                if as_difference:
                    cells = (run.sessions_by_hour[t, col] - base.sessions_by_hour[t, col])[chans]
                    difference = ax.imshow(
                        cells, aspect="auto", cmap="RdBu_r", vmin=-dmax, vmax=dmax, interpolation="nearest"
                    )
                else:
                    absolute = ax.imshow(
                        run.sessions_by_hour[t, col][chans],
                        aspect="auto",
                        cmap="viridis",
                        norm=PowerNorm(0.5, vmin=0, vmax=vmax),  # square root: quiet personas stay visible
                        interpolation="nearest",
                    )
                ax.grid(False)
                ax.set_yticks(range(len(chans)), [run.channels[c] for c in chans])
                hour_axis(ax, "hour (local)" if row == len(rows) - 1 else "")
                ax.set_title(persona if row == 0 else "")
                if col == 0:
                    what = f"minus {base.label}" if as_difference else DAY_TYPES[t]
                    label = f"{run.label}\n{what}" + (f"\n({DAY_TYPES[t]})" if as_difference else "")
                    ax.set_ylabel(label, fontweight="bold")
        base_axes = [ax for (run, _), line in zip(rows, axes, strict=True) if run is base for ax in line]
        other_axes = [ax for (run, _), line in zip(rows, axes, strict=True) if run is not base for ax in line]
        if absolute is not None:
            fig.colorbar(
                absolute, ax=base_axes or list(axes.flat), shrink=0.8, label="sessions started per day"
            )
        if difference is not None:
            fig.colorbar(difference, ax=other_axes, shrink=0.8, label=f"sessions per day, minus {base.label}")
        return png_base64(fig)


def transitions(runs: Sequence[RunSummary]) -> str:
    """Per run: given a session on a channel (row), where the customer's next session was (column)."""
    chans = used_channels(runs, [r.transitions + r.transitions.T for r in runs])
    names = [runs[0].channels[c] for c in chans]
    cols = min(len(runs), 2)
    rows = -(-len(runs) // cols)
    with figure(5.8 * rows, 6.6 * cols) as fig:
        grid = fig.subplots(rows, cols, squeeze=False)
        axes = list(grid.flat)
        for ax in axes[len(runs) :]:
            ax.set_visible(False)
        for ax, run in zip(axes, runs, strict=False):
            m = run.transitions[np.ix_(chans, chans)].astype(float)
            share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
            image = ax.imshow(share * 100, cmap="Blues", vmin=0, vmax=100)
            ax.grid(False)
            for (i, k), v in np.ndenumerate(share):
                if v >= 0.01:
                    ax.text(
                        k,
                        i,
                        f"{v:.0%}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > 0.6 else "black",
                    )
            ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
            ax.set_yticks(range(len(names)), names)
            ax.set_xlabel("next session's channel")
            ax.set_ylabel("session's channel")
            ax.set_title(f"{run.label}: {int(m.sum()):,} moves")
        fig.colorbar(image, ax=grid, shrink=0.7 / rows, label="% of next sessions (row sums to 100%)")
        return png_base64(fig)


def typology_shares(run: RunSummary) -> np.ndarray:
    """[persona + all, 3] shares of active customer-days."""
    counts = np.vstack([run.typology.counts, run.typology.counts.sum(axis=0)]).astype(float)
    return np.asarray(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1))


def typology(runs: Sequence[RunSummary]) -> str:
    """Mono-, multi-, cross-channel shares per persona, and what each type spends."""
    groups = [*runs[0].personas, "all customers"]
    labels = [f"{g} · {r.label}" if len(runs) > 1 else g for g in groups for r in runs]
    with figure(1.2 + 0.32 * len(labels)) as fig:
        left, right = fig.subplots(1, 2, width_ratios=(3, 2))
        shares = np.array([typology_shares(r)[g] for g in range(len(groups)) for r in runs])
        y = np.arange(len(labels))[::-1]
        start = np.zeros(len(labels))
        for k, kind in enumerate(TYPOLOGY):
            left.barh(y, shares[:, k] * 100, left=start, color=TYPOLOGY_COLOURS[k], label=kind)
            for yi, s0, v in zip(y, start, shares[:, k], strict=True):
                if v >= 0.06:
                    left.text(s0 + v * 50, yi, f"{v:.0%}", ha="center", va="center", fontsize=8)
            start += shares[:, k] * 100
        left.set_yticks(y, labels)
        left.set_xlim(0, 100)
        left.set_xlabel("% of active customer-days")
        left.set_title("What a customer's day was")
        fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=3)
        _spend(right, runs)
        return png_base64(fig)


def _spend(ax: Axes, runs: Sequence[RunSummary]) -> None:
    x = np.arange(len(TYPOLOGY))
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        t = run.typology
        mean = t.revenue_cents.sum(axis=0) / np.maximum(t.counts.sum(axis=0), 1) / 100
        ax.bar(x + (i - (len(runs) - 1) / 2) * width, mean, width, color=run_colour(i), label=run.label)
    ax.set_xticks(x, TYPOLOGY)
    ax.set_ylabel("€ per customer-day")
    ax.set_title("Spend per customer-day (journey revenue, net)")
    if len(runs) > 1:
        ax.legend()
