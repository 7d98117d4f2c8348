"""The ``parcours`` command (``main.py``) and its verbs, one module each."""

import os

# NumPy's OpenBLAS starts a thread per core when it loads, and that thread spins for a while before it
# sleeps: 0.07 to 0.2 s of CPU per process, taken from a shard or its writer threads on a two-core machine
# (measured with `/usr/bin/time parcours simulate -n 2000`: 0.41-0.57 s user, 0.34 s with one thread).
# parcours does no linear algebra (dot products of four numbers), so the command's processes, and the
# workers they start, ask for one thread. A program that imports parcours as a library keeps its own.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
