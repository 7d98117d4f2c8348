"""Child processes that die with their parent, whatever ended it (Ctrl-C, SIGTERM, kill -9).

On Linux the child asks the kernel for a signal when its parent goes (``prctl(PR_SET_PDEATHSIG)``),
then checks that the parent has not gone already, between its start and that request. Elsewhere this
does nothing: the parent's own clean-up (Ctrl-C, SIGTERM) still stops its children.

Imports nothing of ours: the simulator (shard processes) and the replay (Locust processes, the
reference backend) both use it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Call in the child, first thing: ``sig`` reaches it when ``parent`` (its parent's pid) ends."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return  # not allowed here (a sandbox): the parent's clean-up still applies
    if os.getppid() != parent:  # the parent died before the request: the kernel will not tell us
        os.kill(os.getpid(), sig)


class DieWithParent:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets ``sig`` when this process ends.

    It runs in the child between fork and exec; the death signal survives the exec. The kernel ties it
    to the thread that started the child, so start children from a thread that lives as long as they
    should (the main thread, here).
    """

    def __init__(self, sig: int = signal.SIGTERM) -> None:
        self.parent = os.getpid()
        self.sig = sig

    def __call__(self) -> None:
        die_with_parent(self.parent, self.sig)


def exit_when_orphaned(parent: int, grace_s: float, code: int = 143) -> None:
    """Once ``parent`` is gone, give this process ``grace_s`` to stop by itself, then end it.

    The death signal asks a child to stop; a child that stops cleanly may still take long (Locust's
    master waits for its workers' results, uvicorn for requests in flight). Nobody reads what it
    would write once its parent was killed, so this bounds it. A daemon thread (a greenlet where
    gevent has patched threading) polls ``getppid`` twice a second.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        time.sleep(grace_s)
        os._exit(code)

    threading.Thread(target=watch, name="parcours-lifeline", daemon=True).start()


#: How a parcours process names itself to the children it starts, so that they can follow it.
PARENT_ENV = "PARCOURS_PARENT_PID"
#: Once their parent is gone, how long children may take to stop cleanly (nobody reads their results).
ORPHAN_GRACE_S = 3.0


def child_env() -> dict[str, str]:
    """The environment of a child that should end with this process (see ``follow_parent``)."""
    return {**os.environ, PARENT_ENV: str(os.getpid())}


def follow_parent() -> None:
    """In a child started with ``child_env``: end ``ORPHAN_GRACE_S`` after the parent is gone."""
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        exit_when_orphaned(int(parent), ORPHAN_GRACE_S)
