"""The few numbers ``explain`` splits, read from only the rows they rest on.

``summarise`` computes everything the report shows (one pass over every event, the journeys, the
realism check); ``explain`` runs a run per combination and replicate and reads back only its journey,
money, call and service-work figures. ``core`` reads the journeys' outcomes and the events of the
types those figures count (purchases, returns, exchanges, pickups, calls, chats, staff help), and
hands them to the same functions ``summarise`` does: its figures are the summary's, to the bit
(``tests/test_core.py`` checks it on real runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcours.output.reader import Run
from parcours.report.columns import journeys
from parcours.report.columns.codes import channel_codes, event_codes, persona_codes
from parcours.report.columns.events import COLUMNS, Calendar, Events, Vocab, concat, to_events
from parcours.report.columns.scan import codes_of
from parcours.report.numbers import commerce, queues
from parcours.report.numbers.costs import Work
from parcours.vocabulary import EventType

#: The event types the core figures count (each also kept by the report's scan: ``scan.PICKED_EVENTS``).
CORE_EVENTS = (
    EventType.PURCHASE,
    EventType.RETURN,
    EventType.EXCHANGE,
    EventType.PICKUP,
    EventType.CALL_ANSWERED,
    EventType.CALL_ABANDONED,
    EventType.CHAT_ANSWERED,
    EventType.CHAT_ABANDONED,
    EventType.STAFF_ASSIST,
    EventType.ASSIST_ABANDONED,
)


@dataclass(frozen=True)
class Core:
    """A run's takings (``summary.Takings``) and service work (``costs.Work``), as its summary has them."""

    days: int
    outcomes: list[str]
    journeys_by_outcome: np.ndarray  # [1, outcome]: all personas together
    sales: commerce.Sales
    calls: queues.QueueStats
    work: Work


def picked(run: Run, vocab: Vocab, calendar: Calendar) -> Events:
    """Every event of the core types, whole, in the order the report's scan reads them."""
    wanted = codes_of(vocab, CORE_EVENTS)
    parts = []
    for batch in run.iter_event_batches(columns=COLUMNS):
        keep = np.isin(vocab.events.encode(batch["event_type"]), wanted)
        if keep.any():
            parts.append(to_events(batch.filter(keep), vocab, calendar))
    return concat(parts)


def core(run: Run) -> Core:
    calendar = Calendar.of(run.manifest)
    # personas only label the per-persona arrays, which these figures sum: the manifest's list serves
    vocab = Vocab(channel_codes(), event_codes(), persona_codes(run.manifest.personas))
    rows = picked(run, vocab, calendar)
    outcomes = journeys.outcome_codes()
    outcome = outcomes.encode(run.journeys(columns=["outcome"])["outcome"])
    days = calendar.days
    events = rows.event

    def per_channel(*types: EventType) -> np.ndarray:
        chosen = rows.channel[np.isin(events, codes_of(vocab, types))]
        return np.bincount(chosen, minlength=len(vocab.channels)).astype(np.int64)

    calls = queues.queue(rows, vocab, days, EventType.CALL_ANSWERED, EventType.CALL_ABANDONED)
    chats = queues.queue(rows, vocab, days, EventType.CHAT_ANSWERED, EventType.CHAT_ABANDONED)
    assist = queues.queue(rows, vocab, days, EventType.STAFF_ASSIST, EventType.ASSIST_ABANDONED)
    work = Work(
        run.manifest.scenario.service_times,
        vocab.channels.names,
        float(calls.answered.sum()),
        float(chats.answered.sum()),
        float(assist.answered.sum()),
        per_channel(EventType.PICKUP) / days,
        per_channel(EventType.RETURN, EventType.EXCHANGE) / days,
    )
    return Core(
        days=days,
        outcomes=outcomes.names,
        journeys_by_outcome=np.bincount(outcome, minlength=len(outcomes)).reshape(1, -1),
        sales=commerce.sales(rows, vocab),
        calls=calls,
        work=work,
    )
