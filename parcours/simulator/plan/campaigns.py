"""Campaigns: messages sent to a segment from a set time at the platform's throughput, opened after a
while, sometimes acted upon.

Who receives, opens and clicks is drawn per (customer, campaign) in bulk; a click starts a purchase
journey on the channel the persona answers that kind of message on (push: the app within minutes; the
paper catalogue: the store, days later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parcours.output.schema import CHANNEL_CODE, EVENT_CODE
from parcours.scenarios.spec import Campaign
from parcours.simulator.model.buffer import Columns, nulls
from parcours.simulator.model.identity import identity_code, identity_number
from parcours.simulator.model.inputs import Model
from parcours.simulator.model.population import Customers
from parcours.simulator.model.rng import Purpose, Streams, categorical
from parcours.simulator.model.sorting import argsort_floats
from parcours.vocabulary import OUTBOUND_CHANNELS, Channel, EventType

SEND_STEP, OPEN_STEP = 62, 63  # the message's own sessions, after any the journey may have
CAMPAIGN_SLOT = 64


@dataclass
class Messages:
    customer: np.ndarray  # row into Customers
    campaign: np.ndarray  # int32 send id: (day - 1) * 100 + index into scenario.campaigns
    channel: np.ndarray  # int8 outbound channel code
    send_s: np.ndarray
    open_s: np.ndarray  # inf when never opened within the run
    clicked: np.ndarray
    respond_channel: np.ndarray  # int8: where a click leads (-1: not clicked)
    journey_id: np.ndarray
    journey_row: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.customer)


CAMPAIGN_ID_PER_DAY = 100  # campaign_id = (day - 1) * 100 + the campaign's index: one id per send


def _recipients(model: Model, streams: Streams, customers: Customers, c: int, day: int) -> np.ndarray:
    """Rows of the customers a send reaches; each condition is drawn only for the rows still in."""
    campaign = model.scenario.campaigns[c]
    rows = np.flatnonzero(customers.opted_in(OUTBOUND_CHANNELS.index(campaign.channel)))
    if campaign.channel is Channel.PUSH:
        rows = rows[customers.app_at(rows)]
    if campaign.personas is not None:
        wanted = [model.names.index(name) for name in campaign.personas]
        rows = rows[np.isin(customers.persona[rows], wanted)]
    if campaign.reach < 1.0:  # a segment drawn afresh for every send
        rows = rows[streams.uniform(Purpose.CAMPAIGN, customers.ids[rows], c, day) < campaign.reach]
    return rows


def campaign_sends(model: Model) -> list[tuple[int, int]]:
    """Every send of the run as (campaign index, 1-based day), in the scenario's order."""
    return [
        (c, day)
        for c, campaign in enumerate(model.scenario.campaigns)
        for day in campaign.days_in(model.scenario.calendar)
    ]


def send_window_s(model: Model, campaign: Campaign) -> float:
    """How long the platform takes to send the campaign to the whole customer file's recipients: their
    expected number (the file, the personas' opt-ins, the app for push, the reach) over its throughput
    (``scenario.sending``), or ``over_hours`` when the sender spreads it over longer. The file is
    ``call_centre.serves_customers``, or the run's customers if more."""
    scenario = model.scenario
    file = max(scenario.population.customers, scenario.call_centre.serves_customers)
    share = np.array([p.reach.opt_in.get(campaign.channel, 0.0) for p in model.personas])
    if campaign.channel is Channel.PUSH:
        share = share * model.tables["app_installed"]
    if campaign.personas is not None:
        share = share * np.isin(model.names, campaign.personas)
    recipients = file * float(np.dot(model.shares, share)) * campaign.reach
    window = recipients / scenario.sending.per_hour(campaign.channel) * 3600.0
    return max(window, 3600.0 * (campaign.over_hours or 0.0))


def send_offsets(
    model: Model, streams: Streams, campaign: Campaign, cid: np.ndarray, send_id: int
) -> np.ndarray:
    """Seconds after the campaign's time at which each recipient's message leaves.

    The platform sends the file's messages one after the other, in an order of its own, over the send's
    window: a customer's place in it is drawn per (customer, send), so that a run of part of the file
    sees its messages at the platform's pace, a second holding what the platform sends in one (give or
    take the chance of a random order), and adding customers moves nobody's message."""
    return streams.uniform(Purpose.SEND_ORDER, cid, send_id) * send_window_s(model, campaign)


def _send(model: Model, streams: Streams, customers: Customers, c: int, day: int) -> Messages:
    campaign = model.scenario.campaigns[c]
    rows = _recipients(model, streams, customers, c, day)
    cid = customers.ids[rows]
    send_id = (day - 1) * CAMPAIGN_ID_PER_DAY + c
    k = OUTBOUND_CHANNELS.index(campaign.channel)
    table_row = customers.persona[rows].astype(np.int64) * len(OUTBOUND_CHANNELS) + k
    t = model.tables
    hours, minutes = (int(x) for x in campaign.at.split(":"))
    at = model.hour_starts[day - 1, 0] - model.t0 + hours * 3600.0 + minutes * 60.0
    send = at + send_offsets(model, streams, campaign, cid, send_id)
    sent = send < model.horizon_s  # what the platform has not sent by the run's end is not seen
    rows, cid, table_row, send = rows[sent], cid[sent], table_row[sent], send[sent]
    # Opens and clicks are drawn per send: a customer who got the message, and only such a customer.
    opened = streams.uniform(Purpose.RESPONSE, cid, send_id, 0) < t["open_rate"][table_row]
    # the later draws only for those they concern: the opens' delays, the clicks among opens, where a
    # click leads (a message never clicked leads nowhere: its channel is left at -1)
    opens = np.flatnonzero(opened)
    delay = streams.exponential(
        t["response_delay_s"][table_row[opens]], Purpose.RESPONSE, cid[opens], send_id, 2
    )
    open_s = np.full(len(rows), np.inf)
    open_s[opens] = send[opens] + delay
    open_s[open_s >= model.horizon_s - 600.0] = np.inf  # opened after the run: not seen
    seen = np.flatnonzero(np.isfinite(open_s))
    click_given_open = t["click_rate"][table_row[seen]] / np.maximum(t["open_rate"][table_row[seen]], 1e-12)
    clicked = np.zeros(len(rows), dtype=bool)
    clicked[seen] = streams.uniform(Purpose.RESPONSE, cid[seen], send_id, 1) < click_given_open
    clicks = np.flatnonzero(clicked)
    respond = np.full(len(rows), -1, dtype=np.int8)  # (a month's messages are millions: small types)
    respond[clicks] = categorical(
        t["respond_cum"], table_row[clicks], streams.uniform(Purpose.RESPONSE, cid[clicks], send_id, 3)
    )
    return Messages(
        rows,
        np.full(len(rows), send_id, dtype=np.int32),
        np.full(len(rows), CHANNEL_CODE[campaign.channel], dtype=np.int8),
        send,
        open_s,
        clicked,
        respond,
        (cid << 20) | (np.int64(day - 1) << 8) | (CAMPAIGN_SLOT + c),
    )


def plan_campaigns(model: Model, streams: Streams, customers: Customers) -> Messages:
    parts = [_send(model, streams, customers, c, day) for c, day in campaign_sends(model)]
    if not parts:
        empty = np.zeros(0, np.int64)
        small = np.zeros(0, np.int8)
        return Messages(
            empty, np.zeros(0, np.int32), small, np.zeros(0), np.zeros(0), np.zeros(0, bool), small, empty
        )
    return Messages(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in (
                "customer",
                "campaign",
                "channel",
                "send_s",
                "open_s",
                "clicked",
                "respond_channel",
                "journey_id",
            )
        )
    )


def message_events(model: Model, streams: Streams, customers: Customers, m: Messages) -> Columns:
    """Every message event of the run (sent, opened or read, clicked), sorted by time."""
    opened = np.isfinite(m.open_s)
    catalogue = m.channel == CHANNEL_CODE[Channel.CATALOGUE]
    open_type = np.where(
        catalogue, EVENT_CODE[EventType.CATALOGUE_READ], EVENT_CODE[EventType.MESSAGE_OPENED]
    )
    parts = [
        (np.arange(len(m)), m.send_s, np.full(len(m), EVENT_CODE[EventType.MESSAGE_SENT]), SEND_STEP),
        (np.flatnonzero(opened), m.open_s[opened], open_type[opened], OPEN_STEP),
        (
            np.flatnonzero(m.clicked),
            m.open_s[m.clicked] + 20.0,
            np.full(int(m.clicked.sum()), EVENT_CODE[EventType.MESSAGE_CLICKED]),
            OPEN_STEP,
        ),
    ]
    row = np.concatenate([p[0] for p in parts])
    t_s = np.concatenate([p[1] for p in parts])
    etype = np.concatenate([p[2] for p in parts])
    step = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])
    # by time, a click after its open at the same moment: the clicks are the last part, so a stable
    # sort by time alone keeps them behind the rest (what a lexsort by (time, is a click) does)
    order = argsort_floats(t_s)
    row, t_s, etype, step = row[order], t_s[order], etype[order], step[order]
    crow = m.customer[row]
    cols = nulls(len(row))
    channel = m.channel[row]
    code = identity_code(
        model.scenario.capabilities.identity, channel, np.ones(len(row), bool), customers.account[crow]
    )
    cols.update(
        ts_ms=np.floor((model.t0 + t_s) * 1000.0).astype(np.int64),
        channel=channel,
        event_type=etype,
        session=(m.journey_id[row] << 6) | step,
        campaign=m.campaign[row],
        id_code=code,
        id_number=identity_number(streams, customers.ids[crow], code),
        jrow=m.journey_row[row],
    )
    return cols
