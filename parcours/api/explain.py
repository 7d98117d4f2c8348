"""``explain``: which capabilities make the difference between two scenarios, from Python.

The same runs and figures as ``parcours explain``; the result is an ``Explanation`` whose ``document``
is the command's JSON, with the rows as a table (``to_table``, ``to_frame``) and the page (``page``).
Scenarios may be given as ``Scenario`` objects (a ``variant``), written to a temporary TOML file for
the runs, as ``--days`` and ``--start`` are applied to them.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from parcours.api.edge import optional, user_errors, user_errors_as
from parcours.api.specs import checked
from parcours.scenarios import Scenario, get_scenario

Spec = str | os.PathLike[str] | Scenario
#: The columns of ``Explanation.to_table``: one row per figure and part of its split.
ROW_FIELDS = ("figure", "label", "unit", "part", "kind", "mean", "ci_low", "ci_high", "replicates")


class Explanation:
    """What ``explain`` measured: per figure, FROM's and TO's levels, the total difference, each
    capability's Shapley contribution and the part no capability carries, with 95% intervals."""

    def __init__(self, found: Any) -> None:
        from parcours.strategy.page import document

        self._found = found
        self.document: dict[str, Any] = document(found)

    @property
    def from_name(self) -> str:
        return str(self.document["from"])

    @property
    def to_name(self) -> str:
        return str(self.document["to"])

    @property
    def figures(self) -> dict[str, Any]:
        """Per figure key: label, unit, from, to, total, contributions, interaction, joint."""
        figures: dict[str, Any] = self.document["figures"]
        return figures

    @property
    def capabilities(self) -> list[dict[str, Any]]:
        """The capabilities FROM and TO set differently: name, FROM's value, TO's value."""
        found: list[dict[str, Any]] = self.document["capabilities"]
        return found

    def rows(self) -> list[dict[str, Any]]:
        """One dict per figure and part: from, to, total, each capability, interaction, joint."""
        out = []
        n = self.document["replicates"]
        for key, f in self.figures.items():
            parts = [("from", "level", f["from"]), ("to", "level", f["to"]), ("total", "total", f["total"])]
            parts += [(c["capability"], "capability", c) for c in f["contributions"]]
            parts += [("interaction", "interaction", f["interaction"]), ("joint", "joint", f["joint"])]
            for part, kind, e in parts:
                values = {k: e.get(k) for k in ("mean", "ci_low", "ci_high")}
                out.append({"figure": key, "label": f["label"], "unit": f["unit"], "part": part,
                            "kind": kind, **values, "replicates": n})  # fmt: skip
        return out

    def to_table(self) -> pa.Table:
        """The rows as a ``pyarrow.Table`` (columns: ROW_FIELDS)."""
        rows = self.rows()
        return pa.table({name: [r[name] for r in rows] for name in ROW_FIELDS})

    @user_errors
    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        optional("pandas", what="to_frame")
        return self.to_table().to_pandas()

    def page(self, path: str | os.PathLike[str]) -> Path:
        """Write the explain page (``parcours explain``'s HTML) at ``path``; returns it."""
        return _page(self._found, Path(path))

    def _repr_html_(self) -> str:
        head = (
            f"<caption>parcours explain: {html.escape(self.from_name)} &rarr; "
            f"{html.escape(self.to_name)}, {self.document['replicates']} replicates of "
            f"{self.document['customers']:,} customers</caption>"
        )
        cells = ["<tr><th>figure</th><th>part</th><th>mean</th><th>95% interval</th></tr>"]
        for r in self.rows():
            if r["kind"] in ("joint",):
                continue
            bounds = "" if r["ci_low"] is None else f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
            mean = "" if r["mean"] is None else f"{r['mean']:.4g}"
            cells.append(
                f"<tr><td>{html.escape(r['figure'])}</td><td>{html.escape(r['part'])}</td>"
                f"<td>{mean}</td><td>{bounds}</td></tr>"
            )
        return f"<table>{head}{''.join(cells)}</table>"

    def __repr__(self) -> str:
        factors = len(self.capabilities)
        return f"<parcours.Explanation {self.from_name} -> {self.to_name}, {factors} capabilities>"


@user_errors_as(from_scenario="from_", to_scenario="to")
def explain(
    from_: Spec,
    to: Spec,
    customers: int | None = None,
    replicates: int = 3,
    days: int | None = None,
    workers: int = 1,
    *,
    seed: int | None = None,
    start: str | None = None,
    exact_up_to: int = 6,
    permutations: int = 12,
    keep_runs: str | os.PathLike[str] | None = None,
    on_run: Callable[[int, int, str], None] | None = None,
) -> Explanation:
    """Split the difference between scenarios ``from_`` and ``to`` (names, .toml paths or Scenario
    objects) into each differing capability's contribution, as ``parcours explain`` does."""
    from parcours.strategy.explain import explain as run_explain

    with _scenario_files((from_, to), days, start) as (a, b):
        found = run_explain(
            a,
            b,
            customers=customers,
            replicates=replicates,
            seed=seed,
            workers=workers,
            exact_up_to=exact_up_to,
            permutations=permutations,
            keep_runs=Path(keep_runs) if keep_runs is not None else None,
            on_run=on_run,
        )
    return Explanation(found)


@contextmanager
def _scenario_files(specs: tuple[Spec, Spec], days: int | None, start: str | None) -> Iterator[list[str]]:
    """Names or paths as they are; Scenario objects, or any scenario when ``days`` or ``start`` is
    given, as TOML files in a temporary folder (removed after)."""
    if days is None and start is None and not any(isinstance(s, Scenario) for s in specs):
        yield [os.fspath(s) for s in specs]  # type: ignore[arg-type]
        return
    from parcours.simulator.run.options import Overrides
    from parcours.strategy.factors import to_toml

    change = Overrides(days=days, start=start)
    with tempfile.TemporaryDirectory(prefix="parcours-explain-specs-") as folder:
        paths = []
        for which, spec in zip(("from", "to"), specs, strict=True):
            scenario = checked(spec) if isinstance(spec, Scenario) else get_scenario(os.fspath(spec))
            path = Path(folder) / f"{which}-{scenario.name}.toml"
            path.write_text(to_toml(change.apply(scenario)), encoding="utf-8")
            paths.append(str(path))
        yield paths


@user_errors_as(out="path")
def _page(found: Any, path: Path) -> Path:
    from parcours.output.files import check_out, write_atomic
    from parcours.strategy.page import to_html

    check_out(path)
    return write_atomic(path, to_html(found))
