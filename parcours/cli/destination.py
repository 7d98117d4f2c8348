"""Where a command's page or document goes: ``--out FILE`` or standard output (no --out, or ``-``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from parcours.output.files import check_out, write_atomic


class Destination:
    """A file is checked when the destination is made (before any work), and written atomically."""

    def __init__(self, out: Path | None) -> None:
        self.file = None if out is None or str(out) == "-" else out
        if self.file is not None:
            check_out(self.file)

    def write(self, text: str, note: str = "") -> None:
        """Write ``text``; a file written is said on stderr, with ``note`` after its name."""
        if self.file is None:
            sys.stdout.write(text)
            return
        write_atomic(self.file, text)
        click.echo(f"wrote {self.file}{note}", err=True)
