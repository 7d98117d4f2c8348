"""The manifests: a run directory's ``run.json`` and a run set's ``runset.json``, one typed class each.

Written by the simulator (and ``explain`` for the run sets it keeps) and read by the report, the replay
and ``explain``, always through these classes: nobody ``.get()``s their way through the JSON.

``to_json`` gives the bytes parcours has always written (keys sorted, two-space indent). Reading is
strict: ``from_json`` (one place per manifest, not the readers) checks every field for its type, its
bounds and its agreement with the others (output/fields.py reads them), so that a manifest edited by
hand is one line naming the file and field, never a hang, a huge allocation or an internal error.

The resolved scenario and the personas are the specs' own JSON dumps, kept whole (``output/`` imports
no spec); ``ScenarioRecord`` types the few parts readers use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from parcours import __version__
from parcours.errors import RunDirError
from parcours.output.fields import Doc, load_object
from parcours.output.records import CalendarRecord as CalendarRecord
from parcours.output.records import ScenarioRecord as ScenarioRecord
from parcours.output.records import ServiceTimes as ServiceTimes
from parcours.output.records import as_dict
from parcours.output.schema import SCHEMA_VERSION
from parcours.vocabulary import IntegrationLevel

RUNSET_FORMAT = "parcours-runset"
RUNSET_FORMAT_VERSION = 1
#: The most shards a run may have: a run of the most customers parcours simulates (1,000,000,000) has
#: 667 by default (one per 1,500,000); ``--shards`` is refused above this, and a manifest saying more
#: is refused before anyone loops over its parts.
MAX_SHARDS = 4096
#: Any count a manifest holds (events, customers, agents): exact in float64, far beyond any run.
MAX_COUNT = 2**53
#: The most personas, and the most days (Calendar.days in the scenario spec), a run can have.
MAX_PERSONAS = 1000
MAX_DAYS = 366
#: The most replicates a run set may have (simulator/run/replicates.py's MAX_REPLICATES).
MAX_REPLICATES = 1000


def now_iso() -> str:
    """``created_at``: UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


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
        return cls.from_json(load_object(path), path)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> Manifest:
        """Every field checked, here and only here: present, of its type, within its bounds, and
        consistent with the others (a start that is the calendar's first local midnight, events per
        shard that add up); anything else a RunDirError naming ``where`` and the field."""
        doc = Doc(data, where)
        version = doc.integer("schema_version", 0, MAX_COUNT)
        if version != SCHEMA_VERSION:
            raise doc.fail("schema_version", f"{version} is not one this parcours reads ({SCHEMA_VERSION})")
        shards = doc.integer("shards", 1, MAX_SHARDS)
        counts = Counts(**{k: doc.at("counts").integer(k, 0, MAX_COUNT) for k in Counts.__dataclass_fields__})
        per_shard = tuple(
            doc.bounded_int(f"events_per_shard[{i}]", n, 0, MAX_COUNT)
            for i, n in enumerate(doc.array("events_per_shard", MAX_SHARDS))
        )
        if len(per_shard) != shards or sum(per_shard) != counts.events:
            raise doc.fail(
                "events_per_shard",
                f"{len(per_shard)} shard(s) of {sum(per_shard):,} events in all; shards says {shards}, "
                f"counts.events {counts.events:,}",
            )
        scenario = _scenario(doc)
        personas = doc.objects("personas", MAX_PERSONAS)
        by_persona = doc.at("customers_by_persona")
        customers = {k: by_persona.integer(k, 0, MAX_COUNT) for k in by_persona.data}
        if not set(customers) <= set(personas) or sum(customers.values()) != counts.customers:
            raise doc.fail(
                "customers_by_persona",
                f"must count the run's personas ({', '.join(personas)}) and add up to counts.customers",
            )
        timezone, start, end = _span(doc, scenario.calendar)
        resources = doc.at("resources")
        return cls(
            parcours_version=doc.string("parcours_version"),
            schema_version=version,
            path=doc.string("path"),
            scenario=scenario,
            personas=personas,
            seed=doc.optional_int("seed", 0, 2**63 - 1),
            shards=shards,
            events_per_shard=per_shard,
            timezone=timezone,
            start=start,
            end=end,
            counts=counts,
            customers_by_persona=customers,
            resources=Resources(
                **{k: resources.integer(k, 0, MAX_COUNT) for k in Resources.__dataclass_fields__}
            ),
            wall_time_s=doc.number("wall_time_s", 0.0, 1e9),
            events_per_s=doc.optional_number("events_per_s", 0.0, 1e15),
            created_at=doc.string("created_at"),
        )


def _scenario(doc: Doc) -> ScenarioRecord:
    """The resolved scenario: its name, level and calendar checked; the rest kept as the spec dumped it."""
    scenario = doc.at("scenario")
    scenario.string("name")
    scenario.choice("integration", tuple(level.value for level in IntegrationLevel))
    calendar = scenario.at("calendar")
    calendar.date("start")
    calendar.integer("days", 1, MAX_DAYS)
    calendar.zone("timezone")
    if "demand" in scenario.data:
        demand = scenario.at("demand")
        for key in demand.data:
            if key.endswith("_multiplier"):
                demand.number(key, 0.0, 1e9)
    if isinstance(as_dict(scenario.data.get("stores")).get("week"), dict):
        week = scenario.at("stores").at("week")
        for day in week.data:
            week.string(day)
    return ScenarioRecord(dict(scenario.data))


def _span(doc: Doc, calendar: CalendarRecord) -> tuple[str, str, str]:
    """The time zone, start and end: the scenario's zone, its calendar's first and last local midnights."""
    timezone = doc.zone("timezone")
    if timezone != calendar.timezone:
        raise doc.fail("timezone", f"{timezone!r}, the scenario's calendar says {calendar.timezone!r}")
    start, end = doc.instant("start"), doc.instant("end")
    zone = ZoneInfo(timezone)
    first = dt.date.fromisoformat(calendar.start)
    due = dt.datetime.combine(first, dt.time(), zone)
    if start != due:
        raise doc.fail(
            "start", f"{start.isoformat()} is not {first} 00:00 in {timezone}, the calendar's start"
        )
    last = dt.datetime.combine(first + dt.timedelta(days=calendar.days), dt.time(), zone)
    if end != last:
        raise doc.fail("end", f"{end.isoformat()} is not {calendar.days} day(s) after start in {timezone}")
    return timezone, doc.string("start"), doc.string("end")


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
        return cls.from_json(load_object(path), path)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> RunSetManifest:
        """Every field checked like ``Manifest.from_json``; replicate ``i`` is the folder ``rep-iii`` of
        the set itself (a path such as ``../../elsewhere`` is refused), totals optional."""
        doc = Doc(data, where)
        if data.get("format") != RUNSET_FORMAT or data.get("format_version") != RUNSET_FORMAT_VERSION:
            raise RunDirError(
                f"{where}: format {data.get('format')!r} version {data.get('format_version')!r} is not one "
                f"this parcours reads ({RUNSET_FORMAT} {RUNSET_FORMAT_VERSION})"
            )
        entries = doc.array("runs", MAX_REPLICATES)
        if not entries:
            raise doc.fail("runs", "empty; a run set has at least one replicate")
        runs = tuple(_replicate(doc, i, e) for i, e in enumerate(entries))
        if "replicates" in data and doc.integer("replicates", 1, MAX_REPLICATES) != len(runs):
            raise doc.fail("replicates", f"{data['replicates']}, but runs lists {len(runs)}")
        return cls(
            scenario=None if data.get("scenario") is None else doc.string("scenario"),
            scenario_name=None if data.get("scenario_name") is None else doc.string("scenario_name"),
            root_seed=doc.integer("root_seed", 0, 2**63 - 1),
            runs=runs,
            shards=doc.integer("shards", 1, MAX_SHARDS) if "shards" in data else None,
            workers=doc.integer("workers", 1, MAX_SHARDS) if "workers" in data else None,
            counts=SetCounts(
                **{k: doc.at("counts").integer(k, 0, MAX_COUNT) for k in SetCounts.__dataclass_fields__}
            )
            if "counts" in data
            else None,
            wall_time_s=doc.number("wall_time_s", 0.0, 1e9) if "wall_time_s" in data else None,
            parcours_version=doc.string("parcours_version"),
            created_at=doc.string("created_at"),
        )


def _replicate(doc: Doc, index: int, entry: object) -> Replicate:
    if not isinstance(entry, dict):
        raise doc.fail(f"runs[{index}]", "expected an object (replicate, seed, path)")
    run = Doc(entry, doc.where, f"runs[{index}].")
    replicate = run.integer("replicate", 0, MAX_REPLICATES)
    if replicate != index:
        raise run.fail("replicate", f"{replicate}, but it is entry {index} of runs")
    path = run.string("path")
    if path != replicate_dir(index):
        raise run.fail("path", f"{path!r}; replicate {index} is the set's folder {replicate_dir(index)}")
    return Replicate(replicate, run.integer("seed", 0, 2**63 - 1), path)


def replicate_dir(index: int) -> str:
    return f"rep-{index:03d}"


def with_path(path: Path, where: str) -> None:
    """Rewrite the run.json at ``path`` to say the run is at ``where`` (a run set moved into place)."""
    replace(Manifest.read(path), path=where).write(path)
