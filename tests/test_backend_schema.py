"""Property test of the reference backend against its own OpenAPI description: schemathesis generates
requests for every operation, valid ones and invalid ones (wrong types, out-of-range numbers, missing
fields, odd strings), and sends them to `parcours backend` on loopback. None may get a 5xx; every
answer is JSON; valid ones get what the description promises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.backend_support import backend

#: Examples per generation mode, over all operations: bounded so that the suite stays fast.
EXAMPLES = 100


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_request_gets_a_server_error(tmp_path: Path, mode: GenerationMode) -> None:
    with backend("--db", str(tmp_path / "db.sqlite3")) as (url, proc):
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        seen: dict[int, int] = {}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # a failure is shown as found: shrinking takes minutes
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy(mode))
        def no_5xx(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, timeout=10)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            kind = response.headers.get("content-type", [""])[0]
            if case.formatted_path != "/metrics":  # the Prometheus text
                assert kind == "application/json", f"{case.method} {case.formatted_path}: {kind}"
                response.json()  # every answer, errors included, is JSON

        no_5xx()
        assert proc.poll() is None  # still serving
    assert sum(seen.values()) >= EXAMPLES // 2
    if mode is GenerationMode.NEGATIVE:
        assert any(400 <= s < 500 for s in seen)  # the invalid requests were refused, not accepted
    else:
        assert any(200 <= s < 300 for s in seen)
