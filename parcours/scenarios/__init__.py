"""Scenarios: the Scenario spec and the built-in scenarios, one TOML file each."""

from __future__ import annotations

import sys
import types
from pathlib import Path

from parcours.errors import SpecError
from parcours.scenarios.spec import Scenario
from parcours.specfile import read_toml, validate

__all__ = ["Scenario", "builtin_names", "get_scenario", "load_scenario"]

BUILTIN_DIR = Path(__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_scenario(path: str | Path) -> Scenario:
    """A scenario file; the persona files it names are found relative to it, not to the current folder."""
    path = Path(path)
    scenario = validate(Scenario, read_toml(path), path)
    mix = scenario.population.personas
    if not mix or not any(is_path(name) for name in mix):
        return scenario
    here = path.parent
    resolved = {str(here / name) if is_path(name) else name: share for name, share in mix.items()}
    population = scenario.population.model_copy(update={"personas": resolved})
    return scenario.model_copy(update={"population": population})


def is_path(name: str) -> bool:
    """A persona or scenario given as a file rather than a built-in name."""
    return name.endswith(".toml") or "/" in name


def get_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    if name_or_path in builtin_names():
        return load_scenario(BUILTIN_DIR / f"{name_or_path}.toml")
    if is_path(name_or_path):
        return load_scenario(name_or_path)
    raise SpecError(
        name_or_path, "", f"unknown scenario (built-in: {', '.join(builtin_names())}; or give a .toml path)"
    )


class _Package(types.ModuleType):
    """``parcours.scenarios()``: this package, called, gives the built-in scenarios by name (docs/api.md).

    The public API names a function ``scenarios``, which the package's own name would hide as soon as the
    package is imported: so the package is that function.
    """

    def __call__(self) -> dict[str, Scenario]:
        return {name: get_scenario(name) for name in builtin_names()}


sys.modules[__name__].__class__ = _Package
