"""Single files parcours writes beside runs (report, compare, realism and explain pages, JSON documents):
checked before any work is done, and written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from parcours.errors import ParcoursError
from parcours.output.paths import check_file_out


def check_out(out: Path) -> None:
    """Refuse an output path that cannot take the file, or holds something parcours did not write,
    before any work is done (the rules: parcours/output/paths.py)."""
    check_file_out(out)


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
