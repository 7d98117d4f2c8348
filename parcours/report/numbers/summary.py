"""Everything the report shows about one run, computed once from its Parquet files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from parcours.output.manifest import Manifest
from parcours.output.reader import Run
from parcours.report.columns import journeys
from parcours.report.columns.events import Calendar, Vocab
from parcours.report.columns.scan import scan
from parcours.report.numbers import commerce, queues, usage
from parcours.report.numbers.routes import Routes, persona_waits, routes
from parcours.report.numbers.weeks import Week, week
from parcours.report.realism.assess import Finding, assess
from parcours.report.realism.basis import Basis
from parcours.vocabulary import EventType


@dataclass(frozen=True)
class RunSummary:
    label: str
    path: str
    manifest: Manifest
    channels: list[str]
    personas: list[str]
    outcomes: list[str]
    calendar: Calendar
    customers: int
    sessions_by_hour: np.ndarray  # [day kind (weekdays, Saturday, Sunday), persona, channel, hour] per day
    transitions: np.ndarray  # [from channel, to channel]
    typology: journeys.Typology
    journeys_by_outcome: np.ndarray  # [persona, outcome]
    funnel: np.ndarray  # [persona, channel, stage]
    sales: commerce.Sales
    stockouts: commerce.Stockouts
    findings: list[Finding]  # the realism figures, as `parcours realism` judges them
    calls: queues.QueueStats
    chats: queues.QueueStats
    stores: queues.StoreStats
    week: Week  # per day of the week, and the busiest hour of a mean day
    routes: Routes  # journeys from research to purchase to after-sale channel
    waits: dict[str, np.ndarray]  # per queue: [persona, (mean wait s, people who waited)]

    def finding(self, key: str) -> Finding | None:
        return next((f for f in self.findings if f.reference.key == key), None)

    @property
    def days(self) -> int:
        return self.calendar.days

    @property
    def has_weekend_and_weekdays(self) -> bool:
        weekend = self.calendar.weekend()
        return bool(weekend.any() and (~weekend).any())


class Takings(Protocol):
    """What the headline journey, money and call figures read (``kpis``, ``costs``): a RunSummary, or
    the few numbers ``explain`` reads of a run (``core.Core``)."""

    @property
    def days(self) -> int: ...
    @property
    def outcomes(self) -> list[str]: ...
    @property
    def journeys_by_outcome(self) -> np.ndarray: ...  # [persona (or one row for all), outcome]
    @property
    def sales(self) -> commerce.Sales: ...
    @property
    def calls(self) -> queues.QueueStats: ...


def label_of(run: Run) -> str:
    """The scenario's name, or the directory's when the manifest has none."""
    return run.manifest.scenario.name or run.path.name


def summarise(run: Run, label: str | None = None, vocab: Vocab | None = None) -> RunSummary:
    """The figures of one run; ``vocab`` shared between runs that are to be compared."""
    calendar = Calendar.of(run.manifest)
    vocab = vocab or Vocab.for_runs([run])
    outcomes = journeys.outcome_codes()
    found = scan(run, vocab, calendar)
    j = journeys.read_journeys(run, vocab, calendar, outcomes)
    n_p, n_c, days = len(vocab.personas), len(vocab.channels), calendar.days
    within_s = run.manifest.scenario.service_times.target_within_s
    return RunSummary(
        label=label or label_of(run),
        path=str(run.path),
        manifest=run.manifest,
        channels=vocab.channels.names,
        personas=vocab.personas.names,
        outcomes=outcomes.names,
        calendar=calendar,
        customers=run.manifest.counts.customers,
        sessions_by_hour=usage.sessions_by_hour(found.sessions, calendar, n_p, n_c),
        transitions=usage.transitions(found.sessions, n_c),
        typology=journeys.typology(j, n_p, n_c, days),
        journeys_by_outcome=journeys.outcomes_by_persona(j, n_p, len(outcomes)),
        funnel=commerce.funnel(found.sessions, found.cube, vocab),
        sales=commerce.sales(found.picked, vocab),
        stockouts=commerce.stockouts(found.picked, j, vocab, outcomes),
        findings=assess(Basis(found, vocab, calendar, run.manifest)),
        calls=queues.queue(found.picked, vocab, days, EventType.CALL_ANSWERED, EventType.CALL_ABANDONED),
        chats=queues.queue(found.picked, vocab, days, EventType.CHAT_ANSWERED, EventType.CHAT_ABANDONED),
        stores=queues.stores(found.cube, found.picked, vocab, days),
        week=week(found.sessions, found.picked, calendar, vocab, within_s),
        routes=routes(found.sessions, found.picked, j, vocab, outcomes.names),
        waits=persona_waits(found.picked, vocab),
    )
