"""The specs a run is made of, typed: a scenario or persona file, a variant of a scenario. (The built-in
ones by name: ``parcours.personas()`` and ``parcours.scenarios()``, the packages called.)

A scenario is a frozen pydantic model: ``variant`` changes fields by name (``"stores.staff_per_store"``)
and validates the result as a scenario file would be, so that a notebook can try a variant without
writing TOML, and a wrong value fails with the field's name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from parcours.api.edge import user_errors
from parcours.errors import ParcoursError
from parcours.personas import Persona, get_persona
from parcours.scenarios import Scenario, get_scenario
from parcours.specfile import validate

#: The field whose change resets the capabilities to its preset (unless they are changed too).
LEVEL = "integration"
CAPABILITIES = "capabilities"


@user_errors
def load_scenario(path_or_name: str | os.PathLike[str]) -> Scenario:
    """A built-in scenario by name, or a scenario file (its persona files found beside it)."""
    return get_scenario(os.fspath(path_or_name))


@user_errors
def load_persona(path_or_name: str | os.PathLike[str]) -> Persona:
    """A built-in persona by name, or a persona file."""
    return get_persona(os.fspath(path_or_name))


@user_errors
def variant(scenario: Scenario | str, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Scenario:
    """``scenario`` with some fields changed, validated as a scenario file is.

    ``changes`` names fields by their dotted path (``{"stores.staff_per_store": 2}``), ``fields`` the
    top-level ones (``integration="crosschannel"``, ``name="fewer_staff"``). Changing ``integration``
    gives its preset's capabilities, unless ``capabilities`` (or one of them) is changed as well.
    """
    base = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if not isinstance(base, Scenario):
        raise ParcoursError(f"scenario: expected a Scenario or a scenario's name, not {type(base).__name__}")
    wanted = {**(changes or {}), **fields}
    data = base.model_dump(mode="json")
    for path, value in wanted.items():
        _set(data, path, value)
    if LEVEL in wanted and not any(k.split(".")[0] == CAPABILITIES for k in wanted):
        data.pop(CAPABILITIES, None)
    return validate(Scenario, data, f"variant of {base.name}")


def checked(scenario: Scenario) -> Scenario:
    """A Scenario as its fields now are, validated again (``model_copy`` does not validate)."""
    if not isinstance(scenario, Scenario):
        raise ParcoursError(f"scenario: expected a Scenario, a name or a path, not {type(scenario).__name__}")
    return validate(Scenario, scenario.model_dump(mode="json"), f"scenario {scenario.name}")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in a scenario's dump (a name it does not know is left to validation to name)."""
    keys = path.split(".")
    node = data
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if not isinstance(child, dict):
            raise ParcoursError(f"{path}: {'.'.join(keys[: depth + 1])} is not a table of the scenario")
        node = child
    node[keys[-1]] = value
