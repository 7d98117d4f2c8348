"""Writing an output file safely: refuse a path that cannot take it, never leave it half written."""

from __future__ import annotations

import os
from pathlib import Path

from parcours.errors import ParcoursError


def check_out(out: Path) -> None:
    """Refuse an output path that cannot take the report, before any work is done."""
    if out.is_dir():
        raise ParcoursError(f"{out}: is a directory; give a file name for the report")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise ParcoursError(f"{parent}: no such directory for the report")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParcoursError(f"{parent}: not writable")


def write_atomic(out: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``out``, then rename: ``out`` is never half written."""
    check_out(out)
    parent = out.absolute().parent
    tmp = parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ParcoursError(f"{out}: cannot write the report ({exc.strerror})") from None
    return out
