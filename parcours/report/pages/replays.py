"""The report's section on the latest replay of a run: latency and errors per channel and persona,
from the replay's per-request log (``RUN/replays/ID/requests/*.parquet``), next to the run's own
business figures, so that a reader sees which customers a slow or failing channel hurts.

Percentiles come from Arrow's t-digest (within a fraction of a percent at p99 on these counts); the
exact, merged ones of the whole replay are in its summary.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from parcours.output.replays import REQUESTS_DIR, SUMMARY, latest_replay, read_summary
from parcours.report.numbers.summary import RunSummary
from parcours.report.pages.html import Section, esc, table, tr

#: A customer who waited longer than this for an answer (corrected latency) counts as hurt.
SLOW_MS = 1000.0


def _by(log: pa.Table, key: str) -> dict[str, dict[str, float]]:
    """Per value of ``key``: requests, errors, corrected and service latency percentiles, slow share."""
    corrected = pc.divide(pc.cast(pc.subtract(log["done"], log["due"]), pa.int64()), 1000.0)
    service = pc.divide(pc.cast(pc.subtract(log["done"], log["sent"]), pa.int64()), 1000.0)
    table = pa.table(
        {
            "key": log[key].cast(pa.string()),
            "corrected": corrected,
            "service": service,
            "failed": pc.is_valid(log["error"]),
            "slow": pc.greater(corrected, SLOW_MS),
            "customer": log["customer_id"],
        }
    )
    q = pc.TDigestOptions(q=[0.5, 0.99])
    grouped = table.group_by("key").aggregate(
        [
            ("corrected", "count"),
            ("failed", "sum"),
            ("slow", "sum"),
            ("corrected", "tdigest", q),
            ("service", "tdigest", q),
            ("customer", "count_distinct"),
        ]
    )
    out = {}
    for row in grouped.to_pylist():
        out[row["key"]] = {
            "requests": row["corrected_count"],
            "failed": row["failed_sum"],
            "slow": row["slow_sum"],
            "customers": row["customer_count_distinct"],
            "corrected_p50": row["corrected_tdigest"][0],
            "corrected_p99": row["corrected_tdigest"][1],
            "service_p99": row["service_tdigest"][1],
        }
    return out


def replay_figures(replay: Path) -> dict[str, Any]:
    log = ds.dataset(str(replay / REQUESTS_DIR), format="parquet").to_table(
        columns=["customer_id", "channel", "persona", "due", "sent", "done", "error"]
    )
    summary = read_summary(replay) if (replay / SUMMARY).is_file() else None
    return {
        "replay": replay.name,
        "requests": log.num_rows,
        "target": summary["target"] if summary else "?",
        "speed": summary["speed"] if summary else None,
        "valid": summary["valid"] if summary else None,
        # replays written before --check existed have no checks table
        "checks": summary.get("checks", {}) if summary else {},
        "channel": _by(log, "channel") if log.num_rows else {},
        "persona": _by(log, "persona") if log.num_rows else {},
    }


def _rows(figures: dict[str, dict[str, float]], revenue: dict[str, float]) -> list[str]:
    rows = []
    for name, f in sorted(figures.items(), key=lambda kv: -kv[1]["corrected_p99"]):
        rows.append(
            tr(
                esc(name),
                f"#{f['requests']:,}",
                f"#{f['failed']:,} ({f['failed'] / f['requests']:.1%})",
                f"#{f['corrected_p50']:,.1f}",
                f"#{f['corrected_p99']:,.1f}",
                f"#{f['service_p99']:,.1f}",
                f"#{f['slow'] / f['requests']:.2%}",
                f"#{f['customers']:,}",
                f"#{revenue.get(name, 0.0):,.0f} €",
            )
        )
    return rows


HEAD = [
    "", "requests", "failed", "waited p50 ms", "waited p99 ms", "service p99 ms", f"waited > {SLOW_MS:g} ms",
    "customers", "revenue in the run, per day",
]  # fmt: skip


def _revenue(r: RunSummary) -> tuple[dict[str, float], dict[str, float]]:
    cents = r.sales.revenue_cents  # [persona, channel]
    days = max(r.days, 1)
    by_channel = {c: float(cents[:, i].sum()) / 100 / days for i, c in enumerate(r.channels)}
    by_persona = {p: float(cents[i, :].sum()) / 100 / days for i, p in enumerate(r.personas)}
    return by_channel, by_persona


def _run_table(r: RunSummary, replay: Path) -> tuple[str, list[str]]:
    f = replay_figures(replay)
    by_channel, by_persona = _revenue(r)
    checks = f["checks"]
    verdict = {True: "valid", False: "INVALID (the replay fell behind its schedule)", None: "?"}[f["valid"]]
    facts = [
        f"{r.label}: replay {f['replay']} against {f['target']} at speed {f['speed']}, {f['requests']:,} "
        f"requests, {verdict}.",
    ]
    if checks.get("enabled"):
        kinds = ", ".join(f"{k} {sum(v.values()):,}" for k, v in checks.get("by_kind", {}).items())
        facts.append(
            f"{r.label}: continuity checks on {checks.get('checked', 0):,} answers, "
            f"{checks.get('violations', 0):,} violations" + (f" ({kinds})." if kinds else ".")
        )
    html = (
        f"<h3>{esc(r.label)}: by channel</h3>"
        + table(["channel", *HEAD[1:]], _rows(f["channel"], by_channel))
        + f"<h3>{esc(r.label)}: by persona</h3>"
        + table(["persona", *HEAD[1:]], _rows(f["persona"], by_persona))
    )
    return html, facts


def replay_section(runs: Sequence[RunSummary]) -> list[Section]:
    """The section, when at least one run has a replay with a request log; else nothing."""
    found = [(r, latest_replay(Path(r.path))) for r in runs]
    found = [(r, p) for r, p in found if p is not None]
    if not found:
        return []
    tables, facts = [], []
    for r, replay in found:
        html, lines = _run_table(r, replay)  # type: ignore[arg-type]
        tables.append(html)
        facts += lines
    return [
        Section(
            "replay",
            "The latest replay: who waited",
            "From the latest replay's per-request log: requests, failures, how long customers waited for "
            "each answer (corrected latency: from when the event was due to the answer, so queueing in the "
            "backend counts) and how long the backend took (service time), per channel and per persona, "
            "slowest first; next to each, the revenue that channel or persona brings in the run. Medians and "
            "p99 are t-digest estimates; summary.json holds the exact ones.",
            facts=facts,
            table="".join(tables),
        )
    ]
