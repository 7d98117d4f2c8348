"""Channel use over the day and moves from one channel to the next, from sessions."""

from __future__ import annotations

import numpy as np

from parcours.report.columns.events import DAY_MS, HOUR_MS, Calendar
from parcours.report.columns.scan import Sessions


def sessions_by_hour(s: Sessions, calendar: Calendar, n_personas: int, n_channels: int) -> np.ndarray:
    """[weekend, persona, channel, hour]: sessions starting in each local hour, per day of that type."""
    weekend = calendar.weekend()
    day = np.clip(s.start_local_ms // DAY_MS - calendar.first_day, 0, calendar.days - 1)
    hour = (s.start_local_ms % DAY_MS) // HOUR_MS
    shape = (2, n_personas, n_channels, 24)
    flat = np.ravel_multi_index((weekend[day].astype(np.int64), s.persona, s.channel, hour), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.float64)
    days_of_type = np.array([(~weekend).sum(), weekend.sum()], np.float64)
    return counts / np.maximum(days_of_type, 1)[:, None, None, None]


def transitions(s: Sessions, n_channels: int) -> np.ndarray:
    """[from, to]: a customer's next session after one on ``from`` was on ``to``."""
    order = np.lexsort((s.session, s.start_local_ms, s.customer))
    customer, channel = s.customer[order], s.channel[order].astype(np.int64)
    same = customer[1:] == customer[:-1]
    flat = channel[:-1][same] * n_channels + channel[1:][same]
    return np.bincount(flat, minlength=n_channels * n_channels).reshape(n_channels, n_channels)
