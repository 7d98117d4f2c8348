"""Personas: the Persona spec and the four built-in personas, one TOML file each."""

from __future__ import annotations

import sys
import types
from pathlib import Path

from parcours.errors import SpecError
from parcours.personas.spec import HOUR_PART, ChannelMix, DayPart, Persona
from parcours.specfile import read_toml, validate

__all__ = ["HOUR_PART", "ChannelMix", "DayPart", "Persona", "builtin_names", "get_persona", "load_persona"]

BUILTIN_DIR = Path(__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_persona(path: str | Path) -> Persona:
    path = Path(path)
    return validate(Persona, read_toml(path), path)


def get_persona(name_or_path: str) -> Persona:
    """A built-in persona by name, or a persona file by path."""
    if name_or_path in builtin_names():
        return load_persona(BUILTIN_DIR / f"{name_or_path}.toml")
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_persona(name_or_path)
    raise SpecError(
        name_or_path, "", f"unknown persona (built-in: {', '.join(builtin_names())}; or give a .toml path)"
    )


class _Package(types.ModuleType):
    """``parcours.personas()``: this package, called, gives the built-in personas by name (docs/api.md).

    The public API names a function ``personas``, which the package's own name would hide as soon as the
    package is imported: so the package is that function.
    """

    def __call__(self) -> dict[str, Persona]:
        return {name: get_persona(name) for name in builtin_names()}


sys.modules[__name__].__class__ = _Package
