"""The one exception family of parcours.

Anything a user can get wrong (a bad file, a bad argument, a run directory that is not one) raises a
``ParcoursError``; the CLI prints its message on one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path


class ParcoursError(Exception):
    """A mistake a user can make and fix; its message is the whole story, on one line."""


class SpecError(ParcoursError):
    """A persona or scenario file that does not say what parcours needs."""

    def __init__(self, source: str | Path, field: str, problem: str) -> None:
        self.source = str(source)
        self.field = field
        self.problem = problem
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {problem}")


class RunDirError(ParcoursError):
    """A run directory that is missing, unfinished, foreign or of an unknown schema version."""
