"""The manifests: a run directory's ``run.json`` and a run set's ``runset.json``, one typed class each.

Written by the simulator (and ``explain`` for the run sets it keeps) and read by the report, the replay
and ``explain``, always through these classes: nobody ``.get()``s their way through the JSON.

``to_json`` gives the bytes parcours has always written (keys sorted, two-space indent). Reading is
lenient where the readers always were: a field a manifest lacks takes the value they assumed (see
``Manifest.from_json``); only what a run cannot be read without is refused. Strict validation of every
field belongs in ``from_json`` (one place per manifest), not in the readers.

The resolved scenario and the personas are the specs' own JSON dumps, kept whole (``output/`` imports
no spec); ``ScenarioRecord`` types the few parts readers use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from parcours import __version__
from parcours.errors import RunDirError
from parcours.output.schema import SCHEMA_VERSION

RUNSET_FORMAT = "parcours-runset"
RUNSET_FORMAT_VERSION = 1


def now_iso() -> str:
    """``created_at``: UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _load_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: not a parcours manifest (expected a JSON object)")
    return data


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _ints(kind: Any, value: object) -> Any:
    """``kind`` (a dataclass of ints) from a JSON object: unknown keys left out, missing ones default."""
    return kind(**{k: int(v) for k, v in _dict(value).items() if k in kind.__dataclass_fields__})


@dataclass(frozen=True)
class CalendarRecord:
    start: str = "1970-01-01"  # the first local day, ISO
    days: int = 1
    timezone: str = "UTC"


@dataclass(frozen=True)
class ScenarioRecord:
    """The resolved scenario as it ran (``data``: the Scenario spec's JSON), with typed views."""

    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return None if name is None else str(name)

    @property
    def integration(self) -> str | None:
        level = self.data.get("integration")
        return None if level is None else str(level)

    @cached_property
    def calendar(self) -> CalendarRecord:
        cal = _dict(self.data.get("calendar"))
        default = CalendarRecord()
        return CalendarRecord(
            str(cal.get("start", default.start)),
            int(cal.get("days", default.days)),
            str(cal.get("timezone", default.timezone)),
        )

    @cached_property
    def demand_multipliers(self) -> dict[str, float]:
        """``demand.*_multiplier``: 1 is an ordinary day."""
        demand = _dict(self.data.get("demand"))
        return {k: float(v) for k, v in demand.items() if k.endswith("_multiplier")}

    @cached_property
    def store_week(self) -> dict[str, str] | None:
        """The stores' hours per weekday (``"10:00-19:00"`` or ``"closed"``); None: the same every day."""
        week = _dict(self.data.get("stores")).get("week")
        return {str(k): str(v) for k, v in week.items()} if isinstance(week, dict) else None


@dataclass(frozen=True)
class Counts:
    customers: int = 0  # the whole customer file
    customers_listed: int = 0  # those with at least one event: the rows of customers/
    events: int = 0
    sessions: int = 0
    journeys: int = 0


@dataclass(frozen=True)
class Resources:
    phone_agents: int = 0
    chat_agents: int = 0
    preparers_per_store: int = 0


@dataclass(frozen=True)
class Manifest:
    """``run.json``: what ran, how it was cut into shards, and what it wrote."""

    parcours_version: str
    schema_version: int
    path: str
    scenario: ScenarioRecord
    personas: Mapping[str, Mapping[str, Any]]  # name -> the Persona spec's JSON
    seed: int | None
    shards: int
    events_per_shard: tuple[int, ...]
    timezone: str
    start: str  # UTC instants, ISO
    end: str
    counts: Counts
    customers_by_persona: Mapping[str, int]
    resources: Resources
    wall_time_s: float
    events_per_s: float | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        doc = {f: getattr(self, f) for f in self.__dataclass_fields__}
        doc["scenario"] = dict(self.scenario.data)
        doc["personas"] = {k: dict(v) for k, v in self.personas.items()}
        doc["events_per_shard"] = list(self.events_per_shard)
        doc["customers_by_persona"] = dict(self.customers_by_persona)
        doc["counts"], doc["resources"] = asdict(self.counts), asdict(self.resources)
        return doc

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def write(self, path: Path) -> None:
        path.write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """``path``: a run's run.json; a line naming it when it cannot be read as one."""
        return cls.from_json(_load_object(path), path)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> Manifest:
        """Lenient: missing fields take the readers' old defaults. Strict validation goes here."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise RunDirError(
                f"{where}: schema_version {version!r} is not one this parcours reads ({SCHEMA_VERSION})"
            )
        shards, counts = data.get("shards"), _dict(data.get("counts"))
        if not isinstance(shards, int) or shards < 1 or not isinstance(counts.get("events"), int):
            raise RunDirError(f"{where}: no shard count or event count (shards, counts.events)")
        per_shard = data.get("events_per_shard")
        seed, rate = data.get("seed"), data.get("events_per_s")
        return cls(
            parcours_version=str(data.get("parcours_version", "")),
            schema_version=version,
            path=str(data.get("path", "")),
            scenario=ScenarioRecord(_dict(data.get("scenario"))),
            personas=_dict(data.get("personas")),
            seed=None if seed is None else int(seed),
            shards=shards,
            events_per_shard=tuple(int(n) for n in per_shard) if isinstance(per_shard, list) else (),
            timezone=str(data.get("timezone", "")),
            start=str(data.get("start", "")),
            end=str(data.get("end", "")),
            counts=_ints(Counts, counts),
            customers_by_persona={str(k): int(v) for k, v in _dict(data.get("customers_by_persona")).items()},
            resources=_ints(Resources, data.get("resources")),
            wall_time_s=float(data.get("wall_time_s", 0.0)),
            events_per_s=None if rate is None else float(rate),
            created_at=str(data.get("created_at", "")),
        )


@dataclass(frozen=True)
class Replicate:
    replicate: int
    seed: int
    path: str  # the replicate's folder, relative to the set


@dataclass(frozen=True)
class SetCounts:
    customers: int = 0
    events: int = 0
    journeys: int = 0


@dataclass(frozen=True)
class RunSetManifest:
    """``runset.json``: one scenario's replicates. A set ``explain --keep-runs`` writes has no totals
    (``shards``, ``workers``, ``counts``, ``wall_time_s`` None), and its JSON leaves them out."""

    scenario: str | None  # as asked: a built-in's name or a file
    scenario_name: str | None
    root_seed: int
    runs: tuple[Replicate, ...]
    shards: int | None = None  # each replicate's shards
    workers: int | None = None  # processes that ran them
    counts: SetCounts | None = None
    wall_time_s: float | None = None
    parcours_version: str = __version__
    created_at: str = field(default_factory=now_iso)
    format: str = RUNSET_FORMAT
    format_version: int = RUNSET_FORMAT_VERSION

    @classmethod
    def of_seeds(cls, seeds: Sequence[int], **fields: Any) -> RunSetManifest:
        """The manifest of a set whose replicate ``i`` has seed ``seeds[i]`` and folder ``rep-iii``."""
        runs = tuple(Replicate(i, int(s), replicate_dir(i)) for i, s in enumerate(seeds))
        return cls(runs=runs, **fields)

    @property
    def replicates(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    def to_dict(self) -> dict[str, Any]:
        doc = {f: getattr(self, f) for f in self.__dataclass_fields__}
        doc["runs"] = [asdict(r) for r in self.runs]
        doc["counts"] = None if self.counts is None else asdict(self.counts)
        doc["replicates"] = self.replicates
        optional = ("shards", "workers", "counts", "wall_time_s")
        return {k: v for k, v in doc.items() if not (k in optional and v is None)}

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def write(self, path: Path) -> None:
        path.write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> RunSetManifest:
        return cls.from_json(_load_object(path), path)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> RunSetManifest:
        """Lenient like ``Manifest.from_json``; the format, the runs and the root seed are required."""
        if data.get("format") != RUNSET_FORMAT or data.get("format_version") != RUNSET_FORMAT_VERSION:
            raise RunDirError(
                f"{where}: format {data.get('format')!r} version {data.get('format_version')!r} is not one "
                f"this parcours reads ({RUNSET_FORMAT} {RUNSET_FORMAT_VERSION})"
            )
        entries = data.get("runs")
        if not isinstance(entries, list) or not entries:
            raise RunDirError(f"{where}: runs: expected a non-empty list of replicates")
        try:
            runs = tuple(
                Replicate(int(e.get("replicate", i)), int(e["seed"]), str(e["path"]))
                for i, e in enumerate(entries)
            )
            root_seed = int(data["root_seed"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunDirError(
                f"{where}: a replicate or the root seed is missing or not a number ({exc})"
            ) from None
        shards, workers, wall = data.get("shards"), data.get("workers"), data.get("wall_time_s")
        return cls(
            scenario=None if data.get("scenario") is None else str(data["scenario"]),
            scenario_name=None if data.get("scenario_name") is None else str(data["scenario_name"]),
            root_seed=root_seed,
            runs=runs,
            shards=None if shards is None else int(shards),
            workers=None if workers is None else int(workers),
            counts=_ints(SetCounts, data["counts"]) if "counts" in data else None,
            wall_time_s=None if wall is None else float(wall),
            parcours_version=str(data.get("parcours_version", "")),
            created_at=str(data.get("created_at", "")),
        )


def replicate_dir(index: int) -> str:
    return f"rep-{index:03d}"


def with_path(path: Path, where: str) -> None:
    """Rewrite the run.json at ``path`` to say the run is at ``where`` (a run set moved into place)."""
    replace(Manifest.read(path), path=where).write(path)
