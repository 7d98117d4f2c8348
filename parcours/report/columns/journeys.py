"""Journeys (ground truth) and what a customer's day was: mono-, multi- or cross-channel.

A customer-day is *mono-channel* when all its journeys together touch one channel, *cross-channel*
when at least one journey spans several channels, *multi-channel* otherwise (several channels, each
journey on one). Multi-day runs classify each customer's day separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc

from parcours.output.reader import Run
from parcours.report.columns.arrays import distinct
from parcours.report.columns.codes import Codes
from parcours.report.columns.events import Calendar, Vocab
from parcours.vocabulary import Outcome

TYPOLOGY = ("mono-channel", "multi-channel", "cross-channel")
MONO, MULTI, CROSS = range(3)
#: A service-only contact journey; the simulator may add it to Outcome.
SERVICE = "service"


def outcome_codes() -> Codes:
    names = [o.value for o in Outcome]
    return Codes("journey outcome", names if SERVICE in names else [*names, SERVICE])


@dataclass(frozen=True)
class Journeys:
    """One row per journey, plus its distinct channels as (row, channel code) pairs."""

    journey: np.ndarray
    customer: np.ndarray
    persona: np.ndarray
    day: np.ndarray
    outcome: np.ndarray
    revenue_cents: np.ndarray
    pair_row: np.ndarray  # index into the rows above
    pair_channel: np.ndarray  # one distinct channel of that journey


def read_journeys(run: Run, vocab: Vocab, calendar: Calendar, outcomes: Codes) -> Journeys:
    table = run.journeys(
        columns=["journey_id", "customer_id", "persona", "start", "channels", "outcome", "revenue_cents"],
    )
    lists = table["channels"].combine_chunks()
    rows = np.asarray(pc.list_parent_indices(lists).to_numpy(), np.int64)
    chans = vocab.channels.encode(pc.list_flatten(lists)).astype(np.int64)
    pairs = distinct(rows * len(vocab.channels) + chans)
    start_day = calendar.local_ms(table["start"]) // 86_400_000 - calendar.first_day
    return Journeys(
        journey=table["journey_id"].to_numpy(),
        customer=table["customer_id"].to_numpy(),
        persona=vocab.personas.encode(table["persona"]),
        day=np.clip(start_day, 0, calendar.days - 1),
        outcome=outcomes.encode(table["outcome"]),
        revenue_cents=np.asarray(table["revenue_cents"].to_numpy(), np.int64),
        pair_row=pairs // len(vocab.channels),
        pair_channel=pairs % len(vocab.channels),
    )


@dataclass(frozen=True)
class Typology:
    """Customer-days by persona and type, their distinct channels and their revenue."""

    counts: np.ndarray  # [persona, 3] customer-days
    channels_per_day: np.ndarray  # [persona] mean distinct channels of an active customer-day
    revenue_cents: np.ndarray  # [persona, 3] total journey revenue of those customer-days
    days_by_channels: np.ndarray  # [k] active customer-days that touched k distinct channels


def typology(j: Journeys, n_personas: int, n_channels: int, days: int) -> Typology:
    key = j.customer.astype(np.int64) * days + j.day  # one customer-day
    keys, row_key = np.unique(key, return_inverse=True)
    per_journey = np.bincount(j.pair_row, minlength=len(key))
    day_pairs = distinct(row_key[j.pair_row] * n_channels + j.pair_channel)
    n_channels_day = np.bincount(day_pairs // n_channels, minlength=len(keys))
    crossed = np.bincount(row_key, weights=per_journey >= 2, minlength=len(keys)) > 0
    kind = np.where(crossed, CROSS, np.where(n_channels_day >= 2, MULTI, MONO))
    persona = np.zeros(len(keys), np.int64)
    persona[row_key] = j.persona
    revenue = np.bincount(row_key, weights=j.revenue_cents, minlength=len(keys))
    active = n_channels_day > 0
    flat = persona[active] * 3 + kind[active]
    counts = np.bincount(flat, minlength=n_personas * 3).reshape(n_personas, 3)
    total_channels = np.bincount(persona[active], weights=n_channels_day[active], minlength=n_personas)
    return Typology(
        counts=counts,
        channels_per_day=total_channels / np.maximum(counts.sum(axis=1), 1),
        revenue_cents=np.bincount(flat, weights=revenue[active], minlength=n_personas * 3).reshape(
            n_personas, 3
        ),
        days_by_channels=np.bincount(n_channels_day[active], minlength=2),
    )


def outcomes_by_persona(j: Journeys, n_personas: int, n_outcomes: int) -> np.ndarray:
    """Journeys by [persona, outcome]."""
    return np.bincount(j.persona * n_outcomes + j.outcome, minlength=n_personas * n_outcomes).reshape(
        n_personas, n_outcomes
    )
