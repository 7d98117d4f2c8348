"""Forecasts kept on disk between runs, in the user's cache directory.

A forecast plans an ordinary week of 200,000 reference customers (about half a CPU second), and every
run needs one; ``parcours explain`` needs one per capability combination. It depends only on its
inputs, so it is kept under a key that hashes all of them: the ordinary week's scenario, the personas'
content, the hours of the week in the scenario's time zone (the time-zone database), the source of
every module the computation runs (``CODE``, checked against the imports by a test) and NumPy's
version. A change to any of them makes a new key, so a stale forecast is never served.

Where: ``$XDG_CACHE_HOME/parcours/forecasts`` (``~/.cache/parcours/forecasts`` without it); set
``PARCOURS_CACHE=off`` to neither read nor write it. A file is written whole under a temporary name,
then linked to its final name (atomic, and it never replaces a file already there). A file that does
not read as one of ours, for its key, is ignored and left where it is; any failure to read or write
the cache only means the forecast is computed.

Every code change makes new keys, so the folder would only grow: it keeps the KEEP forecasts used
last (a read marks a file used), and removes older ones as new ones are written, only files that read
as ours (named for their key, holding our magic and that key).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import parcours

MAGIC = "parcours-forecast-1"
CACHE_ENV = "PARCOURS_CACHE"
OFF = ("off", "0", "no", "false")
KEEP = 256  # forecasts kept (a few KB each): explain's largest split makes 8, a scenario 1 or 2
#: The source files (relative to the package) of everything the forecast runs.
CODE = (
    "__init__.py",
    "errors.py",
    "specfile.py",
    "vocabulary.py",
    "output/__init__.py",
    "output/arrays.py",
    "output/schema.py",
    "personas/*.py",
    "scenarios/*.py",
    "simulator/__init__.py",
    "simulator/model/*.py",
    "simulator/plan/*.py",
    "simulator/world/__init__.py",
    "simulator/world/forecast.py",
    "simulator/world/forecast_cache.py",
    "simulator/world/erlang.py",  # and the rosters kept with the forecasts (staffing.py)
    "simulator/world/staffing.py",
)


def code_files() -> list[Path]:
    root = Path(parcours.__file__).parent
    return sorted({p for pattern in CODE for p in root.glob(pattern)})


@cache
def code_digest() -> str:
    """One hash of the forecast's source files (their paths and bytes), once per process."""
    h = hashlib.sha256()
    root = Path(parcours.__file__).parent
    for path in code_files():
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def key_of(*parts: bytes) -> str:
    """The cache key of a forecast's inputs (with the code's digest and NumPy's version)."""
    h = hashlib.sha256(f"{MAGIC}\0{code_digest()}\0{np.__version__}".encode())
    for part in parts:
        h.update(len(part).to_bytes(8, "little") + part)
    return h.hexdigest()


def cache_dir() -> Path | None:
    """Where forecasts are kept, or None when the cache is turned off."""
    if os.environ.get(CACHE_ENV, "").strip().lower() in OFF:
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # the XDG spec: absolute only
    return root / "parcours" / "forecasts"


def _path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{key}.npz"


def load(
    key: str, kinds: tuple[str, ...], shape: tuple[int, ...], dtype: type = np.float64
) -> dict[str, np.ndarray] | None:
    """The arrays kept under ``key``, or None: no cache, no file, or a file that is not ours for it."""
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["magic"]) != MAGIC or str(data["key"]) != key:
                return None
            out = {kind: np.array(data[kind]) for kind in kinds}
    except Exception:  # unreadable, truncated, foreign: computed instead, the file left alone
        return None
    good = all(a.shape == shape and a.dtype == dtype and np.all(np.isfinite(a)) for a in out.values())
    if good:
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to go
    return out if good else None


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep the arrays under ``key``; never replaces a file, never fails a run."""
    path = _path(key)
    if path is None or path.exists():
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".forecast-", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as f:
            payload: dict[str, Any] = {"magic": np.array(MAGIC), "key": np.array(key)} | arrays
            np.savez(f, **payload)
        _publish(tmp, path)
        _evict(path.parent, KEEP)
    except OSError:
        pass  # a read-only or full disk, or another process was first: the cache is only a shortcut
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _publish(tmp: Path, path: Path) -> None:
    """Give the written file its name, atomically, unless a file has that name already."""
    try:
        os.link(tmp, path)  # fails rather than replace a file written meanwhile
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(tmp, path)


def _evict(folder: Path, keep: int) -> None:
    """Remove the forecasts used longest ago beyond the ``keep`` used last: only files of ours."""
    ours = []
    for entry in folder.glob("*.npz"):
        key = entry.stem
        if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
            with contextlib.suppress(OSError):
                ours.append((entry.stat().st_mtime, entry.name, entry))
    if len(ours) <= keep:
        return
    ours.sort(reverse=True)
    for _, _, entry in ours[keep:]:
        if _is_ours(entry):
            with contextlib.suppress(OSError):
                entry.unlink()


def _is_ours(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(data["magic"]) == MAGIC and str(data["key"]) == path.stem
    except Exception:  # anything we cannot read as ours stays
        return False
