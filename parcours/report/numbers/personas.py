"""One row per persona: how its journeys ended, what it spent, how many channels it used, how long it
waited for a person; and the run's figures by day of the week, as JSON rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from parcours.report.columns.journeys import SERVICE
from parcours.report.numbers.bounds import Rate, rate
from parcours.report.numbers.routes import QUEUES, link_list
from parcours.report.numbers.summary import RunSummary
from parcours.vocabulary import Outcome


@dataclass(frozen=True)
class PersonaRow:
    persona: str
    intents: int  # purchase journeys (not service contacts, not unanswered messages)
    conversion: Rate  # of those, bought (kept or returned), with Wilson's interval
    revenue_eur_per_day: float
    revenue_eur_per_intent: float
    active_customer_days: int
    channels_per_active_day: float
    waits: dict[str, tuple[float, int]]  # queue -> (mean wait s, people who waited)


def persona_rows(r: RunSummary) -> list[PersonaRow]:
    code = {name: i for i, name in enumerate(r.outcomes)}
    bought = [code[Outcome.BOUGHT.value], code[Outcome.RETURNED.value]]
    not_intents = [code[n] for n in (SERVICE, Outcome.NO_RESPONSE.value) if n in code]
    rows = []
    for p, persona in enumerate(r.personas):
        outcomes = r.journeys_by_outcome[p]
        intents = int(outcomes.sum() - outcomes[not_intents].sum())
        revenue = float(r.sales.revenue_cents[p].sum()) / 100
        rows.append(
            PersonaRow(
                persona=persona,
                intents=intents,
                conversion=rate(float(outcomes[bought].sum()), intents),
                revenue_eur_per_day=revenue / r.days,
                revenue_eur_per_intent=revenue / intents if intents else math.nan,
                active_customer_days=int(r.typology.counts[p].sum()),
                channels_per_active_day=float(r.typology.channels_per_day[p]),
                waits={q: (float(r.waits[q][p, 0]), int(r.waits[q][p, 1])) for q in QUEUES},
            )
        )
    return rows


def _num(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 6)


def personas_document(r: RunSummary) -> list[dict[str, Any]]:
    return [
        {
            "persona": row.persona,
            "purchase_intents": row.intents,
            "conversion": row.conversion.as_json(),
            "revenue_eur_per_day": _num(row.revenue_eur_per_day),
            "revenue_eur_per_intent": _num(row.revenue_eur_per_intent),
            "active_customer_days": row.active_customer_days,
            "channels_per_active_day": _num(row.channels_per_active_day),
            "waits": {q: {"mean_wait_s": _num(w), "waited": n} for q, (w, n) in row.waits.items()},
        }
        for row in persona_rows(r)
    ]


def flows_document(r: RunSummary) -> dict[str, Any]:
    routes = r.routes
    return {
        "stages": ["research", "purchase", "after-sale"],
        "overall": {
            "journeys": int(routes.journeys.sum()),
            "links": link_list(routes.overall(), routes.nodes),
        },
        "by_persona": {
            persona: {"journeys": int(routes.journeys[p]), "links": link_list(routes.links[p], routes.nodes)}
            for p, persona in enumerate(r.personas)
        },
    }


def weekdays_document(r: RunSummary) -> list[dict[str, Any]]:
    return [
        {
            "weekday": d.name,
            "kind": r.week.kind(d.weekday),
            "days": d.days,
            "sessions_per_day": _num(d.sessions),
            "revenue_eur_per_day": _num(d.revenue_eur),
            "store_visits_per_day": _num(d.store_visits),
            "calls_per_day": _num(d.calls),
            "service_level": _num(d.service_level),
            "busiest_hour": d.busiest_hour if d.busiest_hour >= 0 else None,
        }
        for d in r.week.weekdays
    ]


def busiest_document(r: RunSummary) -> dict[str, Any]:
    w = r.week
    return {
        "hour": w.busiest_hour if w.busiest_hour >= 0 else None,
        "sessions_per_day": _num(w.busiest_hour_sessions_per_day),
        "days": r.days,
    }
