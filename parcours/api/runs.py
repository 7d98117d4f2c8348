"""``Run``: a finished run directory (or run set) from Python, its tables as Arrow, its report as a dict.

A ``Run`` that ``simulate`` wrote without ``out`` owns its temporary directory: ``close()`` (or leaving
a ``with`` block, or the end of the interpreter) removes it, and nothing else. A run opened with
``open_run`` is never removed or changed, except by ``report()``, which writes the page beside its
files as ``parcours report`` does.
"""

from __future__ import annotations

import html
import os
import shutil
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from parcours.api import pages
from parcours.api.edge import optional, user_errors, user_errors_as
from parcours.errors import ParcoursError
from parcours.output.manifest import Manifest, RunSetManifest
from parcours.output.reader import Run as RunDir
from parcours.output.runset import RunSet, open_runs
from parcours.output.schema import CUSTOMER_SCHEMA, EVENT_SCHEMA, JOURNEY_SCHEMA

#: A column added to a run set's tables: which replicate each row comes from (0, 1, ...).
REPLICATE = "replicate"
#: Up to this many events, a notebook's view of a run computes the headline figures (a scan of the
#: events: 1.1 s for the 282,000 events of 300,000 customers' day, measured on the busy two-core
#: machine, so a few seconds at the bound); beyond, it shows the counts and says how to get them.
HEADLINE_MAX_EVENTS = 1_000_000
TABLES = {"events": EVENT_SCHEMA, "customers": CUSTOMER_SCHEMA, "journeys": JOURNEY_SCHEMA}

Filter: TypeAlias = "pc.Expression | Mapping[str, Any] | None"
PathArg: TypeAlias = str | os.PathLike[str]


class Run:
    """A finished run (``parcours simulate``) or run set (``--replicates``), read from Python.

    ``events()``, ``customers()`` and ``journeys()`` are ``pyarrow.Table``s (a run set's have a
    ``replicate`` column); ``facts()`` and ``realism()`` the JSON documents of ``parcours report`` and
    ``parcours realism``, as dicts.
    """

    def __init__(self, path: str | os.PathLike[str], *, _owned: Path | None = None) -> None:
        self.path = Path(path)
        self._opened: RunDir | RunSet = open_runs(self.path)
        self._owned = _owned
        self._headline: list[tuple[str, str]] | None = None
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, str(_owned), True) if _owned is not None else None
        )

    # -- what it is -------------------------------------------------------------------------------
    @property
    def manifest(self) -> Manifest | RunSetManifest:
        """The run's manifest (``run.json``: ``Manifest``), or the run set's (``runset.json``:
        ``RunSetManifest``), typed (``parcours/output/manifest.py``)."""
        return self._opened.manifest

    @property
    def is_set(self) -> bool:
        return isinstance(self._opened, RunSet)

    @property
    def replicates(self) -> list[Run]:
        """A run set's replicates, each a Run; a single run's list is itself."""
        if isinstance(self._opened, RunSet):
            return [Run(r.path) for r in self._opened.runs]
        return [self]

    @property
    def closed(self) -> bool:
        return self._cleanup is not None and not self._cleanup.alive

    # -- its tables -------------------------------------------------------------------------------
    @user_errors
    def events(self, columns: Sequence[str] | None = None, filter: Filter = None) -> pa.Table:
        """The events, part after part (each sorted by ``ts``, ``seq``): ``columns`` to read only
        those, ``filter`` a ``pyarrow.compute`` expression or a ``{column: value or [values]}`` dict."""
        return self._table("events", columns, filter)

    @user_errors
    def customers(self, columns: Sequence[str] | None = None, filter: Filter = None) -> pa.Table:
        """Ground truth: the customers with at least one event, their persona, store and identities."""
        return self._table("customers", columns, filter)

    @user_errors
    def journeys(self, columns: Sequence[str] | None = None, filter: Filter = None) -> pa.Table:
        """Ground truth: each journey's customer, start, end, channels, outcome and revenue."""
        return self._table("journeys", columns, filter)

    @user_errors
    def dataset(self) -> ds.Dataset:
        """The events as a ``pyarrow.dataset`` (lazy; a run set's spans every replicate's parts)."""
        self._check_open()
        parts = [str(p) for r in self._dirs() for p in r.event_parts]
        return ds.dataset(parts, schema=EVENT_SCHEMA, format="parquet")

    @user_errors
    def to_pandas(
        self, table: str = "events", columns: Sequence[str] | None = None, filter: Filter = None
    ) -> Any:
        """``table`` ("events", "customers" or "journeys") as a pandas DataFrame (needs pandas)."""
        optional("pandas", what="to_pandas")
        return self._table(table, columns, filter).to_pandas()

    @user_errors
    def to_polars(
        self, table: str = "events", columns: Sequence[str] | None = None, filter: Filter = None
    ) -> Any:
        """``table`` ("events", "customers" or "journeys") as a polars DataFrame (needs polars)."""
        polars = optional("polars", what="to_polars")
        return polars.from_arrow(self._table(table, columns, filter))

    # -- what the report makes of it --------------------------------------------------------------
    @user_errors_as(out="path")
    def report(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the HTML report (``parcours report``): at ``path``, by default ``report.html`` in the
        run's directory (removed with a temporary run: give a ``path`` to keep it). Returns its path."""
        self._check_open()
        return pages.write_page([self.path], Path(path) if path is not None else self.path / "report.html")

    @user_errors
    def facts(self) -> dict[str, Any]:
        """Every figure of the report, as ``parcours report --format json`` writes it."""
        self._check_open()
        return pages.facts([self.path])

    @user_errors
    def realism(self) -> dict[str, Any]:
        """The run's figures against published ones (``parcours realism --format json``)."""
        self._check_open()
        if self.is_set:
            raise ParcoursError(
                f"realism: {self.path} is a run set; ask one replicate, as run.replicates[0].realism()"
            )
        return pages.realism(self.path)

    # -- its life ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Remove the temporary directory of a run ``simulate`` wrote without ``out``; else nothing."""
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"<parcours.Run {self._label()} at {self.path}{state}>"

    def _repr_html_(self) -> str:
        rows = [("path", str(self.path) + (" (closed: removed)" if self.closed else ""))]
        if not self.closed:
            rows += _describe(self._opened)
            rows += self._headline_rows()
        cell = 'style="text-align:left"'
        body = "".join(
            f"<tr><th {cell}>{html.escape(k)}</th><td {cell}>{html.escape(v)}</td></tr>" for k, v in rows
        )
        return f"<table><caption>parcours run: {html.escape(self._label())}</caption>{body}</table>"

    # -- inside -----------------------------------------------------------------------------------
    def _label(self) -> str:
        if isinstance(self._opened, RunSet):
            return f"{self._opened.scenario} ({self._opened.manifest.replicates} replicates)"
        return self._opened.manifest.scenario.name or self.path.name

    def _dirs(self) -> list[RunDir]:
        return self._opened.runs if isinstance(self._opened, RunSet) else [self._opened]

    def _check_open(self) -> None:
        if self.closed:
            raise ParcoursError(f"run: {self.path} was closed and its temporary directory removed")

    def _table(self, name: str, columns: Sequence[str] | None, where: Filter) -> pa.Table:
        self._check_open()
        if name not in TABLES:
            raise ParcoursError(f"table: expected one of {', '.join(TABLES)}, not {name!r}")
        schema = TABLES[name]
        names = _columns(schema, columns, self.is_set)
        expression = _expression(schema, where, self.is_set)
        # a filter on the replicate column is applied once it is there; any other, while reading
        late = self.is_set and expression is not None and REPLICATE in str(expression)
        own = [c for c in names if c != REPLICATE]
        tables = []
        for index, run in enumerate(self._dirs()):
            t = _read(run, name, schema.names if late else own, None if late else expression)
            if self.is_set:
                t = t.append_column(REPLICATE, pa.array([index] * t.num_rows, pa.int32()))
                t = (_filtered(t, expression) if late else t).select(names)
            tables.append(t)
        return pa.concat_tables(tables)

    def _headline_rows(self) -> list[tuple[str, str]]:
        if self._headline is None:
            self._headline = _headline(self._dirs()[0])
        return self._headline


@user_errors
def open_run(path: str | os.PathLike[str]) -> Run:
    """A finished run directory or run set at ``path``; a ParcoursError naming ``path`` if it is not."""
    return Run(path)


@user_errors_as(out="path")
def compare(*runs: Run | str | os.PathLike[str], path: PathArg | None = None) -> dict[str, Any]:
    """Two or more runs or run sets side by side, as ``parcours compare --format json`` gives them:
    each run's figures and their differences against the first (run sets: means with 95% intervals,
    paired replicate by replicate when made with the same seed). With ``path``, the HTML page too."""
    if len(runs) < 2:
        raise ParcoursError(f"compare: runs: needs at least two runs or run sets, got {len(runs)}")
    paths = [r.path if isinstance(r, Run) else Path(r) for r in runs]
    for r in runs:
        if isinstance(r, Run):
            r._check_open()
    if path is not None:
        pages.write_page(paths, Path(path))
    return pages.facts(paths)


def _columns(schema: pa.Schema, columns: Sequence[str] | None, replicated: bool) -> list[str]:
    known = [*schema.names, *([REPLICATE] if replicated else [])]
    if columns is None:
        return known
    if isinstance(columns, str):
        raise ParcoursError(f"columns: expected a list of column names, not the string {columns!r}")
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ParcoursError(f"columns: no column {unknown[0]!r} (there are: {', '.join(known)})")
    return list(columns)


def _expression(schema: pa.Schema, where: Filter, replicated: bool) -> pc.Expression | None:
    """A filter as a pyarrow expression: a dict ``{column: value}`` or ``{column: [values]}`` is their
    conjunction."""
    if where is None or isinstance(where, pc.Expression):
        return where
    if not isinstance(where, Mapping):
        raise ParcoursError(
            f"filter: expected a pyarrow.compute expression or a dict of columns, not {type(where).__name__}"
        )
    known = [*schema.names, *([REPLICATE] if replicated else [])]
    terms = []
    for column, value in where.items():
        if column not in known:
            raise ParcoursError(f"filter: no column {column!r} (there are: {', '.join(known)})")
        if isinstance(value, list | tuple | set | frozenset):
            terms.append(pc.field(column).isin(list(value)))
        else:
            terms.append(pc.field(column) == value)
    expression = terms[0] if terms else None
    for term in terms[1:]:
        expression = expression & term
    return expression


def _read(run: RunDir, name: str, columns: list[str], where: pc.Expression | None) -> pa.Table:
    if name == "events":
        if where is None:
            return run.events(columns)
        try:
            return run.events_dataset().to_table(columns=columns, filter=where)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
            raise ParcoursError(f"filter: {str(exc).splitlines()[0]}") from None
    wanted = columns if where is None else None  # the filter may name columns not asked for
    table = run.customers(wanted) if name == "customers" else run.journeys(wanted)
    return _filtered(table, where).select(columns)


def _filtered(table: pa.Table, where: pc.Expression | None) -> pa.Table:
    if where is None:
        return table
    try:
        return table.filter(where)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
        raise ParcoursError(f"filter: {str(exc).splitlines()[0]}") from None


def _describe(opened: RunDir | RunSet) -> list[tuple[str, str]]:
    """What was run and what it counted, from the manifest alone."""
    if isinstance(opened, RunSet):
        made = opened.manifest
        events = made.counts.events if made.counts else sum(r.manifest.counts.events for r in opened.runs)
        return [
            ("replicates", f"{made.replicates} (root seed {made.root_seed}, seeds {made.seeds})"),
            ("events (all replicates)", f"{events:,}"),
            ("headline", "of the first replicate; run.facts() gives means with 95% intervals"),
        ]
    m = opened.manifest
    calendar = m.scenario.calendar
    return [
        ("integration", m.scenario.integration or "?"),
        ("customers", f"{m.counts.customers:,} (seed {m.seed})"),
        ("days", f"{calendar.days} from {calendar.start} ({m.timezone})"),
        ("events", f"{m.counts.events:,} in {m.shards} shard(s)"),
        ("journeys", f"{m.counts.journeys:,}"),
    ]


def _headline(run: RunDir) -> list[tuple[str, str]]:
    """The report's headline figures, when the run is small enough to summarise at once."""
    events = run.manifest.counts.events
    if events > HEADLINE_MAX_EVENTS:
        return [("headline", f"{events:,} events: run.facts() computes the figures (a full scan)")]
    from parcours.report.numbers.kpis import KPIS, fmt
    from parcours.report.numbers.summary import summarise

    summary = summarise(run)
    return [(k.label, fmt(k, float(k.value(summary)))) for k in KPIS]
