"""Scenarios: the Scenario spec and the built-in scenarios, one TOML file each."""

from __future__ import annotations

from pathlib import Path

from parcours.errors import SpecError
from parcours.scenarios.spec import Scenario
from parcours.specfile import read_toml, validate

__all__ = ["Scenario", "builtin_names", "get_scenario", "load_scenario"]

BUILTIN_DIR = Path(__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    return validate(Scenario, read_toml(path), path)


def get_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    if name_or_path in builtin_names():
        return load_scenario(BUILTIN_DIR / f"{name_or_path}.toml")
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_scenario(name_or_path)
    raise SpecError(
        name_or_path, "", f"unknown scenario (built-in: {', '.join(builtin_names())}; or give a .toml path)"
    )
