"""Locust glue: what a standalone, master or worker process does in a replay, and what they say.

The master (or a standalone process) plans the replay from the whole run, picks one start time a
moment ahead, and tells each worker its share; no event passes through it. Each worker replays its
share and sends back what it measured; the master merges that into ``summary.json``. Stopped early
(Ctrl-C, SIGTERM, --run-time, the web UI's stop), the master asks the workers for what they have and
still writes the summary, marked interrupted. A replay still running at its time cap (planned length +
request timeout + a margin: a target that hangs or answers slowly) stops the same way, marked
``stopped_by: time_cap``, with its own exit code.

``attach``: the replay's options, and each process's part; ``coordinator``: the master's (or a
standalone process's) side; ``worker``: a worker's side, and the messages between them.
"""

from parcours.loadtests.nodes.attach import hook_into

__all__ = ["hook_into"]
