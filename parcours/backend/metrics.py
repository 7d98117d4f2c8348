"""Request counts and a latency histogram per route, as Prometheus text (exposition format 0.0.4)."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping

#: Upper bounds of the latency buckets, seconds (the server's own time, from request to response).
BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PREFIX = "parcours_backend"


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        counts = self.buckets.get(route)
        if counts is None:
            counts = self.buckets[route] = [0] * (len(BUCKETS_S) + 1)
        counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        self.sums[route] = self.sums.get(route, 0.0) + seconds

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def text(self, entities: Mapping[str, int], extra: Mapping[str, int]) -> str:
        lines = [
            f"# HELP {PREFIX}_requests_total Requests answered, by method, route and status.",
            f"# TYPE {PREFIX}_requests_total counter",
        ]
        for (method, route, status), n in sorted(self.requests.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            lines.append(f"{PREFIX}_requests_total{{{labels}}} {n}")
        lines += [
            f"# HELP {PREFIX}_request_duration_seconds Time from request to response, by route.",
            f"# TYPE {PREFIX}_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.buckets.items()):
            running = 0
            for bound, n in zip([*map(repr, BUCKETS_S), "+Inf"], counts, strict=True):
                running += n
                labels = f'route="{route}",le="{bound}"'
                lines.append(f"{PREFIX}_request_duration_seconds_bucket{{{labels}}} {running}")
            lines.append(f'{PREFIX}_request_duration_seconds_sum{{route="{route}"}} {self.sums[route]:.6f}')
            lines.append(f'{PREFIX}_request_duration_seconds_count{{route="{route}"}} {running}')
        lines += [
            f"# HELP {PREFIX}_entities Rows stored, by entity.",
            f"# TYPE {PREFIX}_entities gauge",
        ]
        lines += [f'{PREFIX}_entities{{entity="{k}"}} {v}' for k, v in sorted(entities.items())]
        for name, value in sorted(extra.items()):
            lines += [f"# TYPE {PREFIX}_{name} gauge", f"{PREFIX}_{name} {value}"]
        return "\n".join(lines) + "\n"
