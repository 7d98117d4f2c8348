"""The command's processes ask NumPy's OpenBLAS for one thread, and Arrow for the system allocator
(parcours/cli/__init__.py); a setting of the user's own wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: (environment variable, what a probe prints of the setting in effect, the command's value, another)
SETTINGS = [
    (
        "OPENBLAS_NUM_THREADS",
        "import parcours.cli.main, numpy, os\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))\n",
        "1",
        "2",
    ),
    (
        "ARROW_DEFAULT_MEMORY_POOL",
        "import parcours.cli.main, pyarrow as pa\nprint(pa.default_memory_pool().backend_name)\n",
        "system",
        "mimalloc",
    ),
]


@pytest.mark.parametrize(("variable", "probe", "ours", "theirs"), SETTINGS, ids=[s[0] for s in SETTINGS])
@pytest.mark.parametrize("told", [False, True], ids=["default", "told"])
def test_the_command_sets_its_value_unless_told(
    variable: str, probe: str, ours: str, theirs: str, told: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != variable}
    if told:
        env[variable] = theirs
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [theirs if told else ours]


@pytest.mark.parametrize("module", ["numpy", "pyarrow"])
def test_the_library_loads_after_the_setting(module: str) -> None:
    """A setting only counts if the library (NumPy's OpenBLAS, Arrow's allocator) is not loaded before
    parcours.cli runs."""
    probe = f"import sys, parcours.cli\nprint({module!r} in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
