"""What differs between two scenarios, and the scenarios in between.

The factors of an explanation are the integration capabilities whose resolved values differ between
FROM and TO (``scenario.capabilities``, when the spec has them); a spec without capability switches
falls back to the integration level as one factor. A combination is FROM with a subset of the factors
switched to TO's values. Other settings that differ (demand, stores, campaigns...) are not factors:
what they change shows as the part no capability carries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parcours.scenarios import Scenario, is_path

#: Settings that never count as a difference: names, words, and what every run overrides.
IGNORED = {"name", "description", "economics"}  # economics: read by explain, not by the runs
CAPABILITIES = "capabilities"
LEVEL = "integration"


@dataclass(frozen=True)
class Factor:
    """One capability switch that FROM and TO set differently."""

    name: str
    from_value: Any
    to_value: Any

    def describe(self) -> str:
        return f"{self.name}: {_show(self.from_value)} -> {_show(self.to_value)}"


def _show(value: Any) -> str:
    return {True: "on", False: "off"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def _dump(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="json")


def factors(from_sc: Scenario, to_sc: Scenario) -> list[Factor]:
    """The capabilities FROM and TO set differently, in the spec's order."""
    a, b = _dump(from_sc), _dump(to_sc)
    if isinstance(a.get(CAPABILITIES), dict) and isinstance(b.get(CAPABILITIES), dict):
        return [
            Factor(name, value, b[CAPABILITIES][name])
            for name, value in a[CAPABILITIES].items()
            if b[CAPABILITIES].get(name) != value
        ]
    return [Factor(LEVEL, a[LEVEL], b[LEVEL])] if a[LEVEL] != b[LEVEL] else []


def other_differences(from_sc: Scenario, to_sc: Scenario) -> list[str]:
    """Settings other than the capabilities (and names, descriptions, seeds) that differ."""
    a, b = _dump(from_sc), _dump(to_sc)
    skip = IGNORED | {CAPABILITIES, LEVEL}
    out = []
    for key in sorted(set(a) | set(b)):
        if key in skip:
            continue
        if key == "population":
            pa, pb = (dict(d.get(key) or {}) for d in (a, b))
            for d in (pa, pb):
                d.pop("seed", None)  # every run sets its replicate's seed
            if pa != pb:
                out.append(key)
        elif a.get(key) != b.get(key):
            out.append(key)
    return out


def combine(from_sc: Scenario, chosen: list[Factor], name: str) -> Scenario:
    """FROM with the ``chosen`` factors switched to TO's values, under another name."""
    update: dict[str, Any] = {"name": name}
    if chosen and chosen[0].name == LEVEL:
        update[LEVEL] = type(from_sc.integration)(chosen[0].to_value)
    elif chosen:
        caps = getattr(from_sc, CAPABILITIES)
        values = {f.name: type(getattr(caps, f.name))(f.to_value) for f in chosen}
        update[CAPABILITIES] = caps.model_copy(update=values)
    return from_sc.model_copy(update=update)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def to_toml(scenario: Scenario) -> str:
    """The scenario as a TOML file ``load_scenario`` reads back to an equal scenario (persona files
    given by absolute path, so the file can live anywhere)."""
    data = _drop_none(_dump(scenario))
    mix = data.get("population", {}).get("personas")
    if mix:
        data["population"]["personas"] = {
            str(Path(k).resolve()) if is_path(k) else k: v for k, v in mix.items()
        }
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data.items() if isinstance(v, list) and not _tables(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()]
    for key, value in data.items():
        if isinstance(value, list) and _tables(value):
            for item in value:
                lines.append(f"\n[[{key}]]")
                lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _tables(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(v, dict) for v in value)
