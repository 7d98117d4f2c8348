"""Locust entry point of the parcours replay.

    locust -f "$(parcours locustfile)" --run-dir runs/demo --window 12:00-12:10 --speed 60 \\
        --host http://127.0.0.1:8080 --headless -t 30s

or, with no server to start by hand and the summary printed at the end, ``parcours replay``. Each
process replays its share of the run's customers (see ``nodes``); the number of Locust users does not
matter, as the events, not users, set the load.
"""

from __future__ import annotations

from locust import User, constant, events, task

from parcours.loadtests import nodes

nodes.hook_into(events)


class Replay(User):
    """Locust wants a user class; this one only keeps the test running while the replay sends."""

    fixed_count = 1
    wait_time = constant(3600)

    @task
    def idle(self) -> None:
        """The run's events are sent by the replay of each process, not by users."""
