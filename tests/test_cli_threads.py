"""The command's processes ask NumPy's OpenBLAS for one thread, and Arrow for the system allocator
(parcours/cli/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import parcours.cli.main, numpy, os\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))\n"


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("2", "2")])
def test_the_command_asks_openblas_for_one_thread_unless_told(given: str | None, seen: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [seen]


def test_numpy_loads_after_the_setting() -> None:
    """The setting only counts if NumPy (and its OpenBLAS) is not loaded before parcours.cli runs."""
    probe = "import sys, parcours.cli\nprint('numpy' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


ARROW_PROBE = "import parcours.cli.main, pyarrow as pa\nprint(pa.default_memory_pool().backend_name)\n"


@pytest.mark.parametrize(("given", "seen"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_the_command_asks_arrow_for_the_system_allocator_unless_told(given: str | None, seen: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if given is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = given
    out = subprocess.run(
        [sys.executable, "-c", ARROW_PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [seen]


def test_pyarrow_loads_after_the_setting() -> None:
    probe = "import sys, parcours.cli\nprint('pyarrow' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
