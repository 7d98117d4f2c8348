"""The numbers under each figure, in words; with several runs, each against the first one."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from parcours.report.columns.journeys import TYPOLOGY
from parcours.report.numbers import units
from parcours.report.numbers.intervals import Estimate
from parcours.report.numbers.kpis import KPIS
from parcours.report.numbers.summary import RunSummary
from parcours.report.numbers.units import Units

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


Counted = tuple[float, float]  # k of n


def _of(u: Units, show: Show) -> str:
    """A figure with what it rests on: a share its k of n, a count its days, a mean or total its units."""
    if u.kind == "share":
        return f"{pct(u.value)} ({u.k:,.0f} of {u.n:,})"
    days = f" in {u.days} day{'s' if u.days > 1 else ''}"
    if u.kind == "rate":
        return f"{show(u.value)} ({u.k:,.0f}{days})"
    return f"{show(u.value)} (n = {u.n:,} {u.unit}{days if u.kind == 'total' else ''})"


def _signed(show: Show, v: float) -> str:
    shown = show(abs(v))
    return ("-" if v < 0 and shown != show(0.0) else "+") + shown  # no "-0.0"


def _told(e: Estimate, show: Show) -> str:
    """A difference in ``show``'s unit, its 95% interval, and ~ when it is not told from zero."""
    if math.isnan(e.mean):
        return "n/a"
    text = _signed(show, e.mean)
    if e.has_interval:
        text += f" [{_signed(show, e.ci_low)}, {_signed(show, e.ci_high)}]"
    return text + (", ~ not told apart from zero" if units.undecided(e) else "")


def _points(v: float) -> str:
    return f"{v * 100:,.1f} pts"


def counted_line(label: str, runs: Sequence[RunSummary], counted: Sequence[Units], show: Show = num) -> str:
    """``label: 4.0% (13 of 325)``, ``label: 6.0 (6 in 1 day)`` or ``label: €45.99 (n = 13 purchases)``
    for one run; for several, each against the first with the difference, its 95% interval over those
    units, and ~ when runs this size cannot tell it from zero (``units`` says how)."""
    if len(runs) == 1:
        return f"{label}: {_of(counted[0], show)}"
    step = _points if counted[0].kind == "share" else show
    rest = [
        f"{r.label} {_of(u, show)}: {_told(units.difference(counted[0], u), step)}"
        for r, u in zip(runs[1:], counted[1:], strict=True)
    ]
    return f"{label}: " + " · ".join([f"{runs[0].label} {_of(counted[0], show)}", *rest])


def share_line(label: str, runs: Sequence[RunSummary], counted: Sequence[Counted]) -> str:
    return counted_line(label, runs, [units.share(k, n, "units") for k, n in counted])


def count_line(label: str, runs: Sequence[RunSummary], counts: Sequence[float]) -> str:
    """A count shown per day, from the run's whole count."""
    return counted_line(
        label, runs, [units.rate(k, r.days, "events") for k, r in zip(counts, runs, strict=True)]
    )


def channel_use(runs: Sequence[RunSummary]) -> list[str]:
    by_channel = [r.funnel[..., 0].sum(axis=0) for r in runs]
    out = [count_line("Sessions per day", runs, [float(r.funnel[..., 0].sum()) for r in runs])]
    for r in runs:
        peak, per_day = r.week.busiest_hour, r.week.busiest_hour_sessions_per_day
        if peak >= 0:
            days = f"a mean day of {r.days}" if r.days > 1 else "the day"
            out.append(
                f"{r.label}: busiest hour {peak:02d}:00-{peak + 1:02d}:00 "
                f"({per_day:,.0f} sessions started in it, {days})"
            )
    top = np.argsort(-by_channel[0])[:5]
    for c in top:
        counted = [(float(b[c]), float(b.sum())) for b in by_channel]
        out.append(share_line(f"Share of sessions on {runs[0].channels[c]}", runs, counted))
    return out


def transitions(runs: Sequence[RunSummary]) -> list[str]:
    out = []
    switch = [
        (float(r.transitions.sum() - np.trace(r.transitions)), float(r.transitions.sum())) for r in runs
    ]
    out.append(share_line("Next session on another channel", runs, switch))
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
        share_line(
            f"{kind.capitalize()} customer-days", runs, [(float(t[k]), float(t.sum())) for t in totals]
        )
        for k, kind in enumerate(TYPOLOGY)
    ]
    for p, persona in enumerate(runs[0].personas):
        cross = [(float(r.typology.counts[p, 2]), float(r.typology.counts[p].sum())) for r in runs]
        out.append(share_line(f"Cross-channel days of {persona}", runs, cross))
    return out


def _counted(r: RunSummary, key: str) -> Counted:
    """The k of n of a headline share (NaN of 0 where the run cannot give it)."""
    u = next(k for k in KPIS if k.key == key).units(r)
    return u.k, float(u.n)


def funnel(runs: Sequence[RunSummary]) -> list[str]:
    total = [r.funnel.sum(axis=(0, 1)) for r in runs]
    out = [
        share_line(
            "Online session conversion (own-site and app sessions with a purchase)",
            runs,
            [_counted(r, "online_session_conversion") for r in runs],
        ),
        share_line(
            "Cart abandonment (own-site and app sessions with a cart and no purchase)",
            runs,
            [_counted(r, "cart_abandonment") for r in runs],
        ),
        share_line(
            "Store-visit conversion (visits with a purchase, pick-up/return-only visits apart)",
            runs,
            [_counted(r, "store_visit_conversion") for r in runs],
        ),
        share_line(
            "Purchase-intent (journey) conversion (purchase journeys that bought)",
            runs,
            [_counted(r, "journey_conversion") for r in runs],
        ),
        share_line(
            "Sessions with an order, every channel (store, phone, chat included)",
            runs,
            [(float(t[2]), float(t[0])) for t in total],
        ),
        share_line("Sessions with a cart, every channel", runs, [(float(t[1]), float(t[0])) for t in total]),
        count_line("Pickups per day", runs, [float(t[3]) for t in total]),
        count_line("Returns and exchanges per day", runs, [float(t[4]) for t in total]),
    ]
    for p, persona in enumerate(runs[0].personas):
        rates = [(float(r.funnel[p, :, 2].sum()), float(r.funnel[p, :, 0].sum())) for r in runs]
        out.append(share_line(f"Sessions with an order, every channel, {persona}", runs, rates))
    return out


def revenue(runs: Sequence[RunSummary]) -> list[str]:
    s = [r.sales for r in runs]
    return [
        counted_line(
            "Revenue per day (purchases)",
            runs,
            [units.total(x.basket_cents / 100, r.days, "purchases") for x, r in zip(s, runs, strict=True)],
            euros,
        ),
        count_line("Purchases per day", runs, [float(x.purchases.sum()) for x in s]),
        counted_line("Mean basket", runs, [units.mean(x.basket_cents / 100, "purchases") for x in s], euros),
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
        count_line("Journeys that met a stock-out, per day", runs, [float(x.journeys) for x in so]),
        share_line(
            "… lost to the stock-out", runs, [(x.fate["lost to the stock-out"], x.journeys) for x in so]
        ),
        share_line(
            "… bought all the same (another channel or store)",
            runs,
            [(b, x.journeys) for b, x in zip(bought, so, strict=True)],
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
            count_line(f"{what} per day", runs, [float(q.total) for q in queues]),
            share_line(
                f"{what} given up",
                runs,
                [
                    (round(float(q.abandoned.sum()) * r.days), q.total)
                    for q, r in zip(queues, runs, strict=True)
                ],
            ),
            line(f"{what}: median wait", runs, [float(np.median(w)) for w in waits], minutes),
            line(
                f"{what}: 90th percentile wait", runs, [float(np.percentile(w, 90)) for w in waits], minutes
            ),
        ]
    return out or ["No call or chat in these runs."]


def stores(runs: Sequence[RunSummary]) -> list[str]:
    out = [
        count_line("Store visits per day", runs, [round(float(r.stores.visits.sum()) * r.days) for r in runs])
    ]
    for r in runs:
        q = int(np.argmax(r.stores.occupancy))
        out.append(
            f"{r.label}: most people in store at {q // 4:02d}:{q % 4 * 15:02d} "
            f"({r.stores.occupancy[q]:,.0f} in all stores)"
        )
    waits = [r.stores.assist.waits if r.stores.assist.total else np.array([math.nan]) for r in runs]
    gave_up = [(round(float(r.stores.assist.abandoned.sum()) * r.days), r.stores.assist.total) for r in runs]
    out.append(share_line("Customers who asked for staff and gave up waiting", runs, gave_up))
    out.append(line("Median wait for staff", runs, [float(np.median(w)) for w in waits], minutes))
    out.append(
        line("90th percentile wait for staff", runs, [float(np.percentile(w, 90)) for w in waits], minutes)
    )
    return out
