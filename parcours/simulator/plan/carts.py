"""Carts and logins within a journey: what silos lose when data must cross channels.

A research session on the own site may put the product in a cart; a purchase on another device then
needs the cart to follow, which only happens where the retailer recognises the customer on both
sessions. Browsing on one device and buying in a store, or on the same device, needs no link.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from parcours.simulator.model.channels import IDENTIFIES, OWN_SITE
from parcours.simulator.model.identity import linked_on
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import Purpose, Streams
from parcours.simulator.plan.sessions import MAX_PLANNED_STEPS


class JourneyColumns(Protocol):
    """What carts read of the shard's journeys (PlannedJourneys; a protocol, so plan can import this)."""

    id: np.ndarray
    customer: np.ndarray
    service: np.ndarray


def logs_in(
    model: Model,
    streams: Streams,
    customers: Customers,
    crow: np.ndarray,
    jid: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """Whether the customer logs in during that session (one draw, shared by planning and events)."""
    rate = model.tables["login_rate"][customers.persona[crow]]
    return IDENTIFIES[channel] & customers.account[crow] & (streams.uniform(Purpose.LOGIN, jid, step) < rate)


def has_cart(
    model: Model,
    streams: Streams,
    customers: Customers,
    journeys: JourneyColumns,
    s_journey: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """Research sessions on the own site that put the product in a cart (one draw, shared by planning
    and events)."""
    crow = journeys.customer[s_journey]
    rate = model.tables["cart_rate"][customers.persona[crow]]
    research = ~buy & ~journeys.service[s_journey] & (step < MAX_PLANNED_STEPS)
    u = streams.uniform(Purpose.CART_ABANDON, journeys.id[s_journey], step)
    return OWN_SITE[channel] & research & (u < rate)


def lost_carts(
    model: Model,
    streams: Streams,
    customers: Customers,
    journeys: JourneyColumns,
    jrow: np.ndarray,
    step: np.ndarray,
    channel: np.ndarray,
    buy: np.ndarray,
) -> np.ndarray:
    """A buyer on the own site whose cart sits on another device, which does not know it (silos, or a
    customer the retailer does not recognise), may give up. Browsing on one device and buying in a store
    or on the same device needs no link and is never penalised. Rows are in (journey, time) order."""
    cart = has_cart(model, streams, customers, journeys, jrow, step, channel, buy)
    index = np.arange(len(jrow))
    last_cart = np.maximum.accumulate(np.where(cart, index, -1))
    before = np.r_[-1, last_cart[:-1]]
    crossing = buy & OWN_SITE[channel] & (before >= 0)
    crossing &= jrow[np.maximum(before, 0)] == jrow
    crossing &= channel[np.maximum(before, 0)] != channel
    rows = np.flatnonzero(crossing)
    if len(rows) == 0:
        return crossing
    cart_row = before[rows]
    crow = journeys.customer[jrow[rows]]
    jid = journeys.id[jrow[rows]]
    account = customers.account[crow]
    caps = model.scenario.capabilities
    known_then = linked_on(
        caps.identity,
        channel[cart_row],
        logs_in(model, streams, customers, crow, jid, step[cart_row], channel[cart_row]),
        account,
    )
    known_now = linked_on(
        caps.identity,
        channel[rows],
        logs_in(model, streams, customers, crow, jid, step[rows], channel[rows]),
        account,
    )
    friction = model.tables["lost_cart_friction"][customers.persona[crow]]
    lost = np.zeros(len(jrow), bool)
    follows = known_then & known_now & caps.cart_follows
    lost[rows] = ~follows & (streams.uniform(Purpose.JOURNEY_PATH, jid) < friction)
    return lost
