"""Call-centre and chat load, waits and abandonment over the day; store traffic and staff waits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from parcours.report.numbers.queues import PERCENTILES, QueueStats
from parcours.report.numbers.summary import RunSummary
from parcours.report.plots.style import (
    figure,
    hour_axis,
    legend_below,
    persona_colour,
    png_base64,
    run_colour,
)

HOURS = np.arange(24)


def _load(ax: Axes, queues: Sequence[QueueStats], runs: Sequence[RunSummary], what: str) -> None:
    for i, (run, q) in enumerate(zip(runs, queues, strict=True)):
        ax.plot(
            HOURS, q.answered + q.abandoned, color=run_colour(i), linewidth=2, label=f"{run.label}: arrived"
        )
        ax.plot(HOURS, q.abandoned, color=run_colour(i), linestyle="--", label=f"{run.label}: gave up")
    hour_axis(ax)
    ax.set_ylabel(f"{what} per hour (mean day)")
    ax.set_title(f"{what.capitalize()} load")
    legend_below(ax)


def _abandonment(ax: Axes, queues: Sequence[QueueStats], runs: Sequence[RunSummary], what: str) -> None:
    for i, (run, q) in enumerate(zip(runs, queues, strict=True)):
        arrived = q.answered + q.abandoned
        rate = np.where(arrived > 0, q.abandoned / np.maximum(arrived, 1e-12) * 100, np.nan)
        ax.plot(
            HOURS,
            rate,
            marker="o",
            markersize=3,
            color=run_colour(i),
            label=f"{run.label}: {q.abandonment():.1%} over the day",
        )
    hour_axis(ax)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"% of {what} given up")
    ax.set_title("Abandonment by hour of arrival")
    legend_below(ax)


def _waits(ax: Axes, queues: Sequence[QueueStats], runs: Sequence[RunSummary], title: str) -> None:
    styles = dict(zip(PERCENTILES, (":", "-", "--"), strict=True))
    for i, (run, q) in enumerate(zip(runs, queues, strict=True)):
        for k, p in enumerate(PERCENTILES):
            if p == 99:
                continue  # p50 and p90 read well by hour; p99 per hour is mostly noise
            ax.plot(
                HOURS,
                q.wait_s[k] / 60,
                linestyle=styles[p],
                color=run_colour(i),
                linewidth=1.8,
                marker="." if p == 50 else None,  # p50 often lies on zero: dots keep it visible
                zorder=3 if p == 50 else 2,
                label=f"{run.label}: p{p}",
            )
    hour_axis(ax)
    drawn = [k for k, p in enumerate(PERCENTILES) if p != 99]
    top = max(
        [float(np.nanmax(q.wait_s[drawn])) / 60 for q in queues if np.isfinite(q.wait_s[drawn]).any()] + [0.5]
    )
    ax.set_ylim(-0.04 * top, top * 1.08)  # a p50 flat at zero stays visible above the axis line
    ax.axhline(0, color="#bbb", linewidth=0.8, zorder=0)
    ax.set_ylabel("wait (minutes)")
    ax.set_title(title)
    legend_below(ax)


def queues(runs: Sequence[RunSummary]) -> str | None:
    """One row for the phone, one for chat, each when a run has any; None when none has either."""
    rows = [
        (what, qs)
        for what, qs in (("calls", [r.calls for r in runs]), ("chats", [r.chats for r in runs]))
        if any(q.total for q in qs)
    ]
    if not rows:
        return None
    with figure(0.4 + 3.6 * len(rows)) as fig:
        axes = fig.subplots(len(rows), 3, squeeze=False)
        for (what, qs), (load, abandon, waits) in zip(rows, axes, strict=True):
            _load(load, qs, runs, what)
            _abandonment(abandon, qs, runs, what)
            _waits(waits, qs, runs, f"Wait of {what} (answered or given up)")
        return png_base64(fig)


def stores(runs: Sequence[RunSummary]) -> str | None:
    """Store visits by hour, people in store over the day, and waits for a member of staff."""
    if not any(r.stores.visits.sum() for r in runs):
        return None
    with figure(3.9) as fig:
        visits, occupancy, assist = fig.subplots(1, 3)
        if len(runs) == 1:
            _visits_by_persona(visits, runs[0])
        else:
            for i, run in enumerate(runs):
                visits.plot(
                    HOURS, run.stores.visits.sum(axis=0), color=run_colour(i), linewidth=2, label=run.label
                )
            legend_below(visits)
        hour_axis(visits)
        visits.set_ylabel("store entries per hour (mean day)")
        visits.set_title("Store traffic")
        quarters = np.arange(96) / 4
        for i, run in enumerate(runs):
            occupancy.plot(quarters, run.stores.occupancy, color=run_colour(i), linewidth=2, label=run.label)
        hour_axis(occupancy)
        occupancy.set_ylabel("customers in the stores (all stores)")
        occupancy.set_title("People in store over the day")
        _waits(
            assist, [r.stores.assist for r in runs], runs, "Waiting for a member of staff (helped or gave up)"
        )
        return png_base64(fig)


def _visits_by_persona(ax: Axes, run: RunSummary) -> None:
    bottom = np.zeros(24)
    for p, persona in enumerate(run.personas):
        ax.bar(HOURS, run.stores.visits[p], bottom=bottom, color=persona_colour(p), label=persona, width=0.9)
        bottom += run.stores.visits[p]
    legend_below(ax)
