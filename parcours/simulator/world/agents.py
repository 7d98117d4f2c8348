"""A desk's agents as the moments each is next free: the queue at a call centre, a chat desk or a store's
floor staff, without a SimPy process per caller.

Callers are served first come, first served, each by the first agent free, or hang up when their patience
runs out; the roster adds and takes agents by the hour, and an agent going off shift finishes the
current call first (their leaving goes ahead of every caller waiting). Since no later caller can pass an
earlier one, a caller's fate (answered at a moment, or gone) is known the moment they arrive: that is
the whole queue, in a heap of free times. It gives the same answers as a ``simpy.PriorityResource``
whose roster process holds off-shift slots at a higher priority (the model before this one; checked
against it in tests/test_agents.py), including the floating-point moments.

The calls of customers outside the simulated sample (the background load) arrive from arrays drawn
ahead; each costs a few heap operations instead of a SimPy process.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

Background = tuple[Sequence[float], Sequence[float], Sequence[float]]  # arrival, service, patience (s)


class Agents:
    """The agents of one desk; ``arrive`` in time order (the simulation clock's)."""

    def __init__(
        self,
        capacity: int,
        roster_s: Sequence[float],
        agents: Sequence[int],
        background: Background | None = None,
        *,
        started: bool = True,
    ) -> None:
        self.capacity = capacity
        self._free = [-math.inf] * capacity  # on shift: when each is next free (a heap)
        self._leaving = 0  # on shift, but off as soon as free (the roster's holds still waiting)
        self._roster_s, self._agents, self._r = list(roster_s), list(agents), 0
        self._next = self._roster_s[0] if self._roster_s else math.inf  # the roster's next change
        self._bg = background or ((), (), ())
        self._b = 0
        # A desk made when its first caller arrives (a store's staff) serves that caller before its
        # roster first applies, as a roster process started then would.
        self._started = started
        # The moments the roster and the background reach, advanced as SimPy's timeouts advance a
        # process's clock (``now + (at - now)``), so that every moment is the same float as before.
        self._roster_now = 0.0
        self._bg_now = 0.0

    def arrive(self, now: float, patience_s: float, service_s: float) -> float | None:
        """A caller arriving at ``now``: the moment an agent answers (then busy for ``service_s``), or
        None when the caller hangs up first (at ``now + patience_s``)."""
        if not self._started:
            self._started = True
            self._roster_now = now
            start = self._assign(now, patience_s, service_s, roster=False)
            self._advance(now)
            return start
        self._advance(now)
        return self._assign(now, patience_s, service_s)

    def _advance(self, now: float) -> None:
        """Roster changes up to ``now`` and background calls before it, in time order."""
        at, service, patience = self._bg
        calls = len(at)
        assign = self._assign
        while True:
            roster = self._next
            b = self._b
            call = at[b] if b < calls else math.inf
            if roster <= now and roster <= call:
                self._change(roster)
            elif call < now:
                if call > self._bg_now:
                    self._bg_now += call - self._bg_now
                assign(self._bg_now, patience[b], service[b])
                self._b = b + 1
            else:
                return

    def _change(self, at: float) -> None:
        """The roster's next hour: agents leave (when free) or come back."""
        if at > self._roster_now:
            self._roster_now += at - self._roster_now
        at = self._roster_now
        wanted = self._agents[self._r]
        self._r += 1
        self._next = self._roster_s[self._r] if self._r < len(self._roster_s) else math.inf
        self._leave(at)
        staying = len(self._free) - self._leaving
        if wanted < staying:
            self._leaving += staying - wanted
            self._leave(at)
        elif wanted > staying:
            kept = min(wanted - staying, self._leaving)  # holds not yet granted are withdrawn first
            self._leaving -= kept
            for _ in range(wanted - staying - kept):
                heapq.heappush(self._free, at)

    def _first_free(self, leaving: int) -> float:
        """When the first agent who stays comes free."""
        free = self._free
        if len(free) <= leaving:
            return math.inf
        return free[0] if leaving == 0 else heapq.nsmallest(leaving + 1, free)[-1]

    def _leave(self, until: float) -> None:
        """Agents due to leave go as they come free, up to ``until``."""
        free = self._free
        while self._leaving and free and free[0] <= until:
            heapq.heappop(free)
            self._leaving -= 1

    def _assign(self, at: float, patience_s: float, service_s: float, *, roster: bool = True) -> float | None:
        deadline = at + patience_s
        free = self._free
        if not self._leaving and free:  # the usual case, in short: nobody leaving, no roster change
            start = at if free[0] <= at else free[0]
            if not roster or self._next >= (start if start <= deadline else deadline):
                if start > deadline:
                    return None
                heapq.heapreplace(free, start + service_s)
                return start
        while True:
            k = self._leaving  # the first k agents to come free leave instead
            first = self._first_free(k)
            start = at if first <= at else first
            decided = start if start <= deadline else deadline
            if roster and self._next < decided:  # the roster changes while the caller waits
                self._change(self._next)
                continue
            break
        if start > deadline:
            return None
        for _ in range(k):
            heapq.heappop(free)
        self._leaving = 0
        heapq.heapreplace(free, start + service_s)
        return start
