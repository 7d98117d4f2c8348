"""The progress line of ``parcours simulate``: simulated clock, events written, events per second."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """One line on stderr, redrawn at most a few times a second; silent when disabled."""

    def __init__(self, enabled: bool, stream: TextIO | None = None, every_s: float = 0.2) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self._began = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def update(self, sim_s: float, horizon_s: float, events: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < self.every_s and sim_s < horizon_s:
            return
        self._last = now
        elapsed = max(now - self._began, 1e-9)
        day, rest = divmod(int(sim_s), 86_400)
        clock = f"day {day + 1} {rest // 3600:02d}:{rest % 3600 // 60:02d}" if sim_s < horizon_s else "done"
        line = f"\rsimulated {clock:>12} | {events:>12,} events | {events / elapsed:>10,.0f} events/s"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def note(self, line: str) -> None:
        """A line of its own on the same stream, below the progress line if one is drawn."""
        self.stream.write(("\n" if self._drawn else "") + line + "\n")
        self.stream.flush()
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
