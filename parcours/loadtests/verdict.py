"""What a replay measured, as ``summary.json`` and as text; the lag gate and the ``--fail-on`` checks.

The gate comes first: a replay whose own scheduling fell behind (schedule lag p99 over ``--max-lag-ms``)
measured its own limits, not the backend's, so it is marked invalid with the reason.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from parcours import __version__
from parcours.errors import ParcoursError
from parcours.loadtests.histogram import HistogramSet
from parcours.loadtests.measure import DIMENSIONS, METRICS, OUTCOMES
from parcours.output.replays import ReplaySettings, ReplaySummary

#: Exit codes of `parcours replay` besides 0 (passed) and 2 (a user error, or a target nothing listens at).
EXIT_FAILED = 1  # no request succeeded, or a --fail-on threshold was crossed
EXIT_INVALID = 3  # the lag gate: the replay fell behind its own schedule
EXIT_TIME_CAP = 4  # the replay stopped at its own time cap: the target held it past its planned length
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_TERMINATED = 143  # SIGTERM
#: Why a replay stopped before every event was sent and answered (summary.json's ``stopped_by``).
STOPPED_BY_TIME_CAP = "time_cap"
STOPPED_BY_INTERRUPT = "interrupt"

_THRESHOLD = re.compile(
    r"^(?:(lag|schedule_lag|service|corrected)_)?(p50|p90|p95|p99|p99\.9|p999|mean|max)_ms$"
)
_COUNT_THRESHOLDS = ("error_rate", "errors", "order_violations", "not_sent", "check_violations")


@dataclass(frozen=True)
class Threshold:
    name: str
    limit: float

    def value(self, summary: ReplaySummary) -> float:
        m = _THRESHOLD.match(self.name)
        if m:
            stat = m[2].replace("p999", "p99.9")
            return float(summary["latency_ms"][m[1] or "corrected"].get(stat, 0.0))
        if self.name == "error_rate":
            return float(summary["events"]["error_rate"])
        if self.name == "errors":
            return float(summary["events"]["failed"])
        if self.name == "not_sent":
            return float(summary["events"]["not_sent"])
        if self.name == "check_violations":
            return float(summary.get("checks", {}).get("violations", 0))
        return float(summary["order_violations"])


def parse_fail_on(text: str | None) -> list[Threshold]:
    """``p99_ms=500,error_rate=0.01``; latencies are corrected latency unless prefixed: ``service_p99_ms``."""
    if not text:
        return []
    out = []
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not (_THRESHOLD.match(name) or name in _COUNT_THRESHOLDS):
            raise ParcoursError(
                f"--fail-on: {item.strip()!r} is not NAME=LIMIT with NAME one of [METRIC_]p50_ms, p90_ms, "
                f"p95_ms, p99_ms, p99.9_ms, mean_ms, max_ms (METRIC: lag, schedule_lag, service, corrected), "
                f"{', '.join(_COUNT_THRESHOLDS)}"
            )
        try:
            limit = float(value)
        except ValueError:
            raise ParcoursError(f"--fail-on: {name}: {value!r} is not a number") from None
        if not math.isfinite(limit) or limit < 0:
            raise ParcoursError(f"--fail-on: {name}: the limit must be a finite number >= 0, got {value!r}")
        out.append(Threshold(name, limit))
    return out


def breaches(summary: ReplaySummary, thresholds: list[Threshold]) -> list[str]:
    return [f"{t.name} {t.value(summary):g} > {t.limit:g}" for t in thresholds if t.value(summary) > t.limit]


def judge(summary: ReplaySummary, thresholds: list[Threshold]) -> ReplaySummary:
    """Record the --fail-on thresholds, those crossed, and why the replay failed (if it did)."""
    summary["fail_on"] = {t.name: t.limit for t in thresholds}
    crossed = [t for t in thresholds if t.value(summary) > t.limit]
    summary["fail_on_crossed"] = [
        {"name": t.name, "value": t.value(summary), "limit": t.limit} for t in crossed
    ]
    if not summary["failed_reason"] and summary["valid"]:  # invalid: the figures measure the replay
        reasons = breaches(summary, thresholds)
        if _violated(summary):
            reasons.append(f"{summary['checks']['violations']:,} continuity violation(s)")
        summary["failed_reason"] = "; ".join(reasons) or None
    return summary


def nothing_succeeded(events: dict[str, Any], errors: dict[str, Any]) -> str | None:
    """Why the replay failed outright, when not one request of those to send got its expected answer."""
    if events["to_send"] == 0 or events["ok"] > 0:
        return None
    if events["sent"] and events["sent"] == events["unanswered"]:
        return (
            f"no request was answered: {events['unanswered']:,} were out, unanswered, when the replay stopped"
        )
    if events["sent"] == 0:
        return f"none of the {events['to_send']:,} requests to send was sent"
    kinds = ", ".join(f"{k} {v:,}" for k, v in errors["by_kind"].items()) or "none recorded"
    statuses = ", ".join(f"{k}: {v:,}" for k, v in errors["by_status"].items())
    return f"no request succeeded: {events['sent']:,} sent, all failed (errors: {kinds}" + (
        f"; statuses {statuses})" if statuses else ")"
    )


def gate(latency_ms: dict[str, Any], max_lag_ms: float) -> tuple[bool, str | None]:
    p99 = latency_ms.get("schedule_lag", {}).get("p99")
    if p99 is None:
        return True, None
    if p99 > max_lag_ms:
        return False, (
            f"schedule lag p99 {p99:.1f} ms > {max_lag_ms:g} ms: the replay fell behind its own schedule, so "
            "these figures measure the load generator, not the backend (add --workers or --connections, "
            "or lower --speed)"
        )
    return True, None


def merge(results: list[dict[str, Any]]) -> tuple[HistogramSet, dict[str, Counter[str]], int]:
    histograms = HistogramSet()
    totals: dict[str, Counter[str]] = {
        k: Counter() for k in ("counts", "status_codes", "errors_by_type", "skipped")
    }
    violations = 0
    for r in results:
        histograms.merge(HistogramSet.from_list(r["histograms"]))
        for key, counter in totals.items():
            counter.update(r[key])
        violations += r["order_violations"]
    return histograms, totals, violations


def build(
    results: list[dict[str, Any]],
    context: ReplaySettings,
    plan: dict[str, Any],
    *,
    max_lag_ms: float,
    interrupted: bool,
    stopped_by: str | None = None,
    time_cap_s: float | None = None,
) -> ReplaySummary:
    """The summary of a replay from every worker's result, the settings and the plan."""
    histograms, totals, violations = merge(results)
    counts = totals["counts"]
    sent, unanswered = counts["sent"], counts["unanswered"]  # sent: every request that went out
    failed = sent - counts["ok"] - unanswered
    skipped_null = sum(totals["skipped"].values())
    stopped_by = stopped_by or (STOPPED_BY_INTERRUPT if interrupted else None)
    not_sent = plan["requests"] - sent - skipped_null
    latency = {m: histograms.get(m).stats_ms() for m in METRICS}
    valid, reason = gate(latency, max_lag_ms)
    elapsed = max((r["last_done_s"] or 0.0 for r in results), default=0.0)
    events = {
        "in_file": plan["events_in_file"],
        "in_window": plan["events_in_window"],
        "to_send": plan["requests"],
        "sent": sent,
        "ok": counts["ok"],
        "failed": failed,
        "error_rate": round((failed + unanswered) / sent, 6) if sent else 0.0,  # sent without its answer
        "unanswered": unanswered,
        "not_sent": not_sent,
        "not_sent_reason": _not_sent_reason(stopped_by, not_sent, results, context),
        "unmapped": plan["unmapped"],
        "skipped_null_field": dict(totals["skipped"]),
    }
    errors = {
        "by_kind": {k: counts[k] for k in OUTCOMES[1:-1] if counts[k]},  # the failures: unanswered aside
        "by_status": dict(sorted(totals["status_codes"].items())),
        "by_event_type": dict(totals["errors_by_type"].most_common()),
        "samples": {k: v for r in results for k, v in r["error_samples"].items()},
    }
    return {
        "parcours_version": __version__,
        **context,
        "interrupted": stopped_by == STOPPED_BY_INTERRUPT,
        "stopped_by": stopped_by,
        "time_cap_s": None if time_cap_s is None else round(time_cap_s, 3),
        "valid": valid,
        "invalid_reason": reason,
        "max_lag_ms": max_lag_ms,
        "planned_duration_s": round(plan["duration_s"], 3),
        "elapsed_s": round(elapsed, 3),
        "requests_per_s": round(sent / elapsed, 1) if elapsed > 0 else None,
        "failed_reason": _lost(results) or nothing_succeeded(events, errors),
        "events": events,
        "errors": errors,
        "order_violations": violations,
        "checks": merge_checks(results, enabled=bool(context.get("check"))),
        "latency_ms": latency,
        "by": {
            d: {
                key: {m: histograms.get(m, d, key).stats_ms() for m in METRICS}
                for key in _keys(histograms, d)
            }
            for d in DIMENSIONS
        },
        "workers": [
            {k: r[k] for k in ("index", "handed", "customers", "first_sent_s", "last_done_s", "stopped")}
            | {"sent": r["counts"].get("sent", 0), "unanswered": r["counts"].get("unanswered", 0)}
            | {"lost": bool(r.get("lost"))}
            for r in sorted(results, key=lambda r: int(r["index"]))
        ],
        "fail_on": {},  # filled by ``judge``
        "fail_on_crossed": [],
    }


def merge_checks(results: list[dict[str, Any]], *, enabled: bool) -> dict[str, Any]:
    """Continuity checks of every worker: answers checked, violations per kind and channel, examples."""
    by_kind: dict[str, Counter[str]] = {}
    samples: dict[str, list[Any]] = {}
    checked = 0
    for r in results:
        checks = r.get("checks", {})
        checked += checks.get("checked", 0)
        for kind, channel, n in checks.get("violations", []):
            by_kind.setdefault(kind, Counter())[channel] += n
        for kind, found in checks.get("samples", {}).items():
            samples[kind] = (samples.get(kind, []) + found)[:3]
    return {
        "enabled": enabled,
        "checked": checked,
        "violations": sum(sum(c.values()) for c in by_kind.values()),
        "by_kind": {k: dict(c.most_common()) for k, c in sorted(by_kind.items())},
        "samples": samples,
    }


def _lost(results: list[dict[str, Any]]) -> str | None:
    lost = [r for r in results if r.get("lost")]
    if not lost:
        return None
    said = ", ".join(f"worker {r['index']} had sent {r['counts'].get('sent', 0):,}" for r in lost)
    return f"{len(lost)} worker(s) lost mid-replay ({said} by its last report); the replay is incomplete"


def _not_sent_reason(
    stopped_by: str | None, not_sent: int, results: list[dict[str, Any]], context: ReplaySettings
) -> str | None:
    if not not_sent:
        return None
    reported = len(results)
    missing = int(context.get("workers_count", reported)) - reported
    lost = f"; {missing} worker(s) never reported what they sent" if missing > 0 else ""
    gone = [str(r["index"]) for r in results if r.get("lost")]
    if gone:
        lost += (
            f"; worker(s) {', '.join(gone)} lost mid-replay: what they sent after their last report is not "
            "known, and the rest of their share was not sent"
        )
    if stopped_by == STOPPED_BY_TIME_CAP:
        return "the replay stopped at its time cap before they were due or their customer's turn came" + lost
    if stopped_by == STOPPED_BY_INTERRUPT:
        return "the replay was interrupted before they were due or their customer's turn came" + lost
    return "not handed over" + lost


def _keys(histograms: HistogramSet, dimension: str) -> list[str]:
    return sorted({k for (m, d, k) in histograms.histograms if d == dimension and m == "corrected"})


def exit_code(summary: ReplaySummary, thresholds: list[Threshold]) -> int:
    if summary["interrupted"]:
        return EXIT_INTERRUPTED
    if summary.get("stopped_by") == STOPPED_BY_TIME_CAP:
        return EXIT_TIME_CAP
    if summary.get("failed_reason"):
        return EXIT_FAILED
    if not summary["valid"]:
        return EXIT_INVALID
    return EXIT_FAILED if breaches(summary, thresholds) or _violated(summary) else 0


def _violated(summary: ReplaySummary) -> bool:
    checks = summary.get("checks", {})
    return bool(checks.get("enabled") and checks.get("violations"))


def _row(label: str, stats: dict[str, Any]) -> str:
    if not stats.get("count"):
        return f"  {label:<14} {'-':>9}"
    cells = "".join(f"{stats[k]:>10.1f}" for k in ("p50", "p90", "p99", "p99.9", "max"))
    return f"  {label:<14}{cells}"


def text(summary: ReplaySummary, thresholds: list[Threshold] | None = None) -> str:
    """The readable summary printed at the end of a replay."""
    ev, err = summary["events"], summary["errors"]
    verdict = (
        "INTERRUPTED"
        if summary["interrupted"]
        else "STOPPED AT ITS TIME CAP"
        if summary.get("stopped_by") == STOPPED_BY_TIME_CAP
        else "FAILED"
        if summary.get("failed_reason")
        else ("VALID" if summary["valid"] else "INVALID")
    )
    lines = [
        f"replay of {summary['run']} -> {summary['target']} (mapping {summary['mapping']}, speed "
        f"{summary['speed']:g}, {summary['workers_count']} worker(s)): {verdict}",
        f"  sent {ev['sent']:,} of {ev['to_send']:,} events ({ev['ok']:,} ok, {ev['failed']:,} failed, "
        f"{ev.get('unanswered', 0):,} without an answer at the stop, "
        f"{ev['not_sent']:,} not sent); skipped: {sum(ev['unmapped'].values()):,} unmapped, "
        f"{sum(ev['skipped_null_field'].values()):,} with a null field",
        f"  took {summary['elapsed_s']:.1f} s for a planned {summary['planned_duration_s']:.1f} s"
        + (f"; {summary['requests_per_s']:,.1f} requests/s" if summary["requests_per_s"] else ""),
    ]
    if err["by_kind"]:
        kinds = ", ".join(f"{k} {v:,}" for k, v in err["by_kind"].items())
        lines.append(f"  errors: {kinds}; statuses {err['by_status']}")
    lines.append(f"  order violations: {summary['order_violations']}")
    lines += _check_lines(summary.get("checks", {}))
    lines.append(f"  {'ms':<14}" + "".join(f"{h:>10}" for h in ("p50", "p90", "p99", "p99.9", "max")))
    for metric in METRICS:
        lines.append(_row(metric.replace("_", " "), summary["latency_ms"][metric]))
    slow = sorted(summary["by"]["event_type"].items(), key=lambda kv: -kv[1]["corrected"].get("p99", 0))[:3]
    if slow:
        lines.append(
            "  slowest event types (corrected p99): "
            + ", ".join(f"{k} {v['corrected']['p99']:.1f} ms" for k, v in slow)
        )
    if summary.get("stopped_by") == STOPPED_BY_TIME_CAP:
        lines.append(f"  STOPPED: {time_cap_reason(summary)}")
    if summary.get("failed_reason"):
        lines.append(f"  FAILED: {summary['failed_reason']}")
    if summary["invalid_reason"]:
        lines.append(f"  INVALID: {summary['invalid_reason']}")
    if not summary.get("failed_reason"):  # a summary judged invalid: the thresholds still show
        lines += [f"  FAILED: {breach}" for breach in breaches(summary, thresholds or [])]
        if _violated(summary):
            lines.append(f"  FAILED: {summary['checks']['violations']:,} continuity violation(s)")
    return "\n".join(lines)


def _check_lines(checks: dict[str, Any]) -> list[str]:
    if not checks.get("enabled"):
        return []
    lines = [
        f"  continuity checks: {checks['checked']:,} answers checked, {checks['violations']:,} violations"
    ]
    for kind, channels in checks["by_kind"].items():
        where = ", ".join(f"{c} {n:,}" for c, n in channels.items())
        lines.append(f"    {kind}: {sum(channels.values()):,} ({where})")
        for sample in checks["samples"].get(kind, [])[:1]:
            lines.append(
                f"      e.g. event {sample['event_id']} ({sample['event_type']}): "
                f"expected {sample['expected']},"
                f" got {sample['got']}"
            )
    return lines


def time_cap_reason(summary: ReplaySummary) -> str:
    """One line: why a replay that reached its time cap stopped there."""
    return (
        f"the replay reached its time cap of {summary.get('time_cap_s') or 0:.1f} s (planned "
        f"{summary['planned_duration_s']:.1f} s, plus --timeout {summary['request_timeout_s']:g} s and a "
        f"margin): the target held it back; {summary['events'].get('unanswered', 0):,} request(s) had no "
        f"answer yet, {summary['events']['not_sent']:,} event(s) were not sent"
    )
