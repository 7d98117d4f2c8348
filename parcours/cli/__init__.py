"""The ``parcours`` command (``main.py``) and its verbs, one module each."""

import os

# NumPy's OpenBLAS starts a thread per core when it loads, and that thread spins for a while before it
# sleeps: 0.07 to 0.2 s of CPU per process, taken from a shard or its writer threads on a two-core machine
# (measured with `/usr/bin/time parcours simulate -n 2000`: 0.41-0.57 s user, 0.34 s with one thread).
# parcours does no linear algebra (dot products of four numbers), so the command's processes, and the
# workers they start, ask for one thread. A program that imports parcours as a library keeps its own.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Arrow's default allocator on Linux (mimalloc) hands freed pages back to the kernel and takes fresh
# ones, which the kernel must zero: on a two-core VM that system time swung between 0.2 and 1.2 s for
# 1,000,000 customers and between 4 and 16 s for a 28-day month of them, while the system allocator
# (glibc's malloc, which keeps and reuses them) stayed at 0.2-0.3 s and 4-5 s; the user time is the same.
# Measured with `/usr/bin/time parcours simulate` alternating ARROW_DEFAULT_MEMORY_POOL (BENCHMARKS.md,
# "fifth pass"). The output does not depend on it. Set before pyarrow loads; a user's own setting wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
