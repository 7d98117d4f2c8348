"""The numbers under each figure, in words; with several runs, each against the first one."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from parcours.report.columns.journeys import TYPOLOGY
from parcours.report.numbers.kpis import journey_conversion
from parcours.report.numbers.summary import RunSummary

Show = Callable[[float], str]


def pct(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.1%}"


def num(v: float) -> str:
    return "n/a" if math.isnan(v) else (f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}")


def euros(v: float) -> str:
    return "n/a" if math.isnan(v) else f"€{v:,.2f}"


def minutes(v: float) -> str:
    """A wait: seconds while short, minutes after two of them."""
    if math.isnan(v):
        return "n/a"
    return f"{v:.0f} s" if v < 120 else f"{v / 60:.1f} min"


def points(v: float, base: float) -> str:
    if math.isnan(v) or math.isnan(base):
        return "n/a"
    change = (v - base) * 100
    return f"{0.0 if abs(change) < 0.05 else change:+.1f} pts"  # no "-0.0 pts"


def relative(v: float, base: float) -> str:
    if math.isnan(v) or math.isnan(base) or not base:
        return "n/a"
    change = (v - base) / abs(base)
    return f"{0.0 if abs(change) < 0.005 else change:+.0%}"  # no "-0%"


def line(
    label: str,
    runs: Sequence[RunSummary],
    values: Sequence[float],
    show: Show = num,
    diff: Callable[[float, float], str] = relative,
) -> str:
    """``label: value`` for one run; ``label: A value · B value (difference vs A) ...`` for several."""
    if len(runs) == 1:
        return f"{label}: {show(values[0])}"
    first = f"{runs[0].label} {show(values[0])}"
    rest = [f"{r.label} {show(v)} ({diff(v, values[0])})" for r, v in zip(runs[1:], values[1:], strict=True)]
    return f"{label}: " + " · ".join([first, *rest])


def _share(num_: float, den: float) -> float:
    return num_ / den if den else math.nan


def channel_use(runs: Sequence[RunSummary]) -> list[str]:
    per_hour = [r.sessions_by_hour.sum(axis=(0, 1, 2)) for r in runs]
    by_channel = [r.funnel[..., 0].sum(axis=0) for r in runs]
    out = [line("Sessions per day", runs, [float(r.funnel[..., 0].sum()) / r.days for r in runs])]
    for r, h in zip(runs, per_hour, strict=True):
        peak = int(np.argmax(h))
        out.append(
            f"{r.label}: busiest hour {peak:02d}:00-{peak + 1:02d}:00 ({h[peak]:,.0f} sessions started)"
        )
    top = np.argsort(-by_channel[0])[:5]
    for c in top:
        shares = [_share(float(b[c]), float(b.sum())) for b in by_channel]
        out.append(line(f"Share of sessions on {runs[0].channels[c]}", runs, shares, pct, points))
    return out


def transitions(runs: Sequence[RunSummary]) -> list[str]:
    out = []
    switch = [
        _share(float(r.transitions.sum() - np.trace(r.transitions)), float(r.transitions.sum())) for r in runs
    ]
    out.append(line("Next session on another channel", runs, switch, pct, points))
    for r in runs:
        m = r.transitions.copy()
        np.fill_diagonal(m, 0)
        if m.sum():
            a, b = np.unravel_index(int(np.argmax(m)), m.shape)
            out.append(
                f"{r.label}: most frequent change {r.channels[a]} → {r.channels[b]} "
                f"({m[a, b] / m.sum():.0%} of changes of channel)"
            )
    return out


def typology(runs: Sequence[RunSummary]) -> list[str]:
    totals = [r.typology.counts.sum(axis=0) for r in runs]
    out = [
        line(
            f"{kind.capitalize()} customer-days",
            runs,
            [_share(float(t[k]), float(t.sum())) for t in totals],
            pct,
            points,
        )
        for k, kind in enumerate(TYPOLOGY)
    ]
    for p, persona in enumerate(runs[0].personas):
        cross = [_share(float(r.typology.counts[p, 2]), float(r.typology.counts[p].sum())) for r in runs]
        out.append(line(f"Cross-channel days of {persona}", runs, cross, pct, points))
    return out


def _finding(r: RunSummary, key: str) -> float:
    found = r.finding(key)
    return found.measure.value if found is not None else math.nan


def funnel(runs: Sequence[RunSummary]) -> list[str]:
    total = [r.funnel.sum(axis=(0, 1)) for r in runs]
    out = [
        line(
            "Online session conversion (own-site and app sessions with a purchase)",
            runs,
            [_finding(r, "online_session_conversion") for r in runs],
            pct,
            points,
        ),
        line(
            "Cart abandonment (own-site and app sessions with a cart and no purchase)",
            runs,
            [_finding(r, "cart_abandonment") for r in runs],
            pct,
            points,
        ),
        line(
            "Store-visit conversion (visits with a purchase, pick-up/return-only visits apart)",
            runs,
            [_finding(r, "store_visit_conversion") for r in runs],
            pct,
            points,
        ),
        line(
            "Purchase-intent (journey) conversion (purchase journeys that bought)",
            runs,
            [journey_conversion(r) for r in runs],
            pct,
            points,
        ),
        line(
            "Sessions with an order, every channel (store, phone, chat included)",
            runs,
            [_share(float(t[2]), float(t[0])) for t in total],
            pct,
            points,
        ),
        line(
            "Sessions with a cart, every channel",
            runs,
            [_share(float(t[1]), float(t[0])) for t in total],
            pct,
            points,
        ),
        line("Pickups per day", runs, [float(t[3]) / r.days for t, r in zip(total, runs, strict=True)]),
        line(
            "Returns and exchanges per day",
            runs,
            [float(t[4]) / r.days for t, r in zip(total, runs, strict=True)],
        ),
    ]
    for p, persona in enumerate(runs[0].personas):
        rates = [_share(float(r.funnel[p, :, 2].sum()), float(r.funnel[p, :, 0].sum())) for r in runs]
        out.append(line(f"Sessions with an order, every channel, {persona}", runs, rates, pct, points))
    return out


def revenue(runs: Sequence[RunSummary]) -> list[str]:
    s = [r.sales for r in runs]
    return [
        line(
            "Revenue per day (purchases)",
            runs,
            [x.revenue_cents.sum() / 100 / r.days for x, r in zip(s, runs, strict=True)],
            euros,
        ),
        line("Purchases per day", runs, [x.purchases.sum() / r.days for x, r in zip(s, runs, strict=True)]),
        line(
            "Mean basket",
            runs,
            [float(np.mean(x.basket_cents)) / 100 if len(x.basket_cents) else math.nan for x in s],
            euros,
        ),
        line("Items per purchase", runs, [_share(float(x.items.sum()), float(x.purchases.sum())) for x in s]),
        line(
            "Refunded on returns per day",
            runs,
            [x.refunds_cents / 100 / r.days for x, r in zip(s, runs, strict=True)],
            euros,
        ),
    ]


def stockouts(runs: Sequence[RunSummary]) -> list[str]:
    so = [r.stockouts for r in runs]
    if not any(x.journeys for x in so):
        return []
    bought = [sum(v for k, v in x.fate.items() if k.startswith("then bought")) for x in so]
    return [
        line(
            "Journeys that met a stock-out, per day",
            runs,
            [x.journeys / r.days for x, r in zip(so, runs, strict=True)],
        ),
        line(
            "… lost to the stock-out",
            runs,
            [_share(x.fate["lost to the stock-out"], x.journeys) for x in so],
            pct,
            points,
        ),
        line(
            "… bought all the same (another channel or store)",
            runs,
            [_share(b, x.journeys) for b, x in zip(bought, so, strict=True)],
            pct,
            points,
        ),
        line(
            "Value of the lost products per day",
            runs,
            [x.lost_value_cents / 100 / r.days for x, r in zip(so, runs, strict=True)],
            euros,
        ),
    ]


def service(runs: Sequence[RunSummary]) -> list[str]:
    out = []
    for what, queues in (("Calls", [r.calls for r in runs]), ("Chats", [r.chats for r in runs])):
        if not any(q.total for q in queues):
            continue
        waits = [q.waits if q.total else np.array([math.nan]) for q in queues]
        out += [
            line(f"{what} per day", runs, [q.total / r.days for q, r in zip(queues, runs, strict=True)]),
            line(
                f"{what} given up",
                runs,
                [q.abandonment() if q.total else math.nan for q in queues],
                pct,
                points,
            ),
            line(f"{what}: median wait", runs, [float(np.median(w)) for w in waits], minutes),
            line(
                f"{what}: 90th percentile wait", runs, [float(np.percentile(w, 90)) for w in waits], minutes
            ),
        ]
    return out or ["No call or chat in these runs."]


def stores(runs: Sequence[RunSummary]) -> list[str]:
    out = [line("Store visits per day", runs, [float(r.stores.visits.sum()) for r in runs])]
    for r in runs:
        q = int(np.argmax(r.stores.occupancy))
        out.append(
            f"{r.label}: most people in store at {q // 4:02d}:{q % 4 * 15:02d} "
            f"({r.stores.occupancy[q]:,.0f} in all stores)"
        )
    waits = [r.stores.assist.waits if r.stores.assist.total else np.array([math.nan]) for r in runs]
    out.append(
        line(
            "Customers who asked for staff and gave up waiting",
            runs,
            [r.stores.assist.abandonment() if r.stores.assist.total else math.nan for r in runs],
            pct,
            points,
        )
    )
    out.append(line("Median wait for staff", runs, [float(np.median(w)) for w in waits], minutes))
    out.append(
        line("90th percentile wait for staff", runs, [float(np.percentile(w, 90)) for w in waits], minutes)
    )
    return out
