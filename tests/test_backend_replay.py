"""Replays with continuity checks against real backends: `parcours backend` in its own process (the
two-terminal workflow), the `--target builtin` one, and a faulty double that drops writes on purpose.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from parcours.cli.main import main
from parcours.output.reader import Run
from tests.backend_support import backend, call
from tests.replay_support import replay
from tests.support import simulate

#: A day squeezed so that a replay takes seconds: idle stretches cut to 2 s, played 1000 times faster.
FAST = ("--mapping", "reference", "--max-gap", "2s", "--speed", "1000", "--check", "--max-lag-ms", "2000")


@pytest.fixture(scope="module")
def omni(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return simulate(tmp_path_factory.mktemp("runs") / "omni", "omnichannel", customers=3000, seed=11)


def test_the_reference_backend_keeps_journeys_whole(omni: Run, tmp_path: Path) -> None:
    with backend("--db", str(tmp_path / "shop.sqlite3")) as (url, _):
        code, summary = replay(omni.path, url, *FAST, out=tmp_path / "replay")
        stats = call(f"{url}/stats")[1]
    ev, checks = summary["events"], summary["checks"]
    assert summary["valid"] and ev["failed"] == 0 and ev["not_sent"] == 0
    assert checks["enabled"] and checks["violations"] == 0, checks
    assert code == 0
    # every kind of check the omnichannel level asks for was exercised, not skipped
    log = pq.read_table(tmp_path / "replay" / "requests")
    kinds = set(pc.unique(log.column("request").filter(pc.is_valid(log.column("check")))).to_pylist())
    assert {"login", "checkout", "session_end", "order_ready"} <= kinds
    assert set(log.column("check").drop_null().to_pylist()) == {"ok"}
    assert checks["checked"] == pc.sum(pc.is_valid(log.column("check"))).as_py()
    # the request log: one row per request sent, each event once, answered 2xx
    assert log.num_rows == ev["sent"] and len(pc.unique(log.column("event_id"))) == ev["sent"]
    assert (
        pc.all(pc.less(log.column("status"), 300)).as_py() and log.column("error").null_count == log.num_rows
    )
    assert pc.all(pc.greater_equal(log.column("done"), log.column("sent"))).as_py()
    # the backend saw the day: orders, identities linked at login, sessions opened and closed in pairs
    assert stats["entities"]["orders"] > 0 and stats["entities"]["accounts"] > 0
    assert stats["open_sessions"] < stats["entities"]["sessions"] * 0.05


def test_a_backend_that_drops_writes_is_caught(
    omni: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with backend("--db", str(tmp_path / "db"), fault="forgetful") as (url, _):
        code, summary = replay(omni.path, url, *FAST, out=tmp_path / "replay")
    checks = summary["checks"]
    assert summary["valid"] and summary["events"]["failed"] == 0  # every answer looked fine...
    assert code == 1  # ...but the journeys were not kept whole
    # the carts it forgot (orders and returns are checked too, when the day holds their pick-ups)
    assert "cart_follows_customer" in checks["by_kind"]
    carts = checks["by_kind"]["cart_follows_customer"]
    assert sum(carts.values()) > 0
    sample = checks["samples"]["cart_follows_customer"][0]
    assert sample["event_type"] == "checkout" and "includes" in sample["expected"]
    log = pq.read_table(tmp_path / "replay" / "requests", columns=["check"])
    assert log.column("check").to_pylist().count("cart_follows_customer") == sum(carts.values())
    out = capsys.readouterr().out
    assert "continuity checks:" in out and "FAILED:" in out and "cart_follows_customer" in out


def test_builtin_target_checks_a_crosschannel_day_and_the_report_shows_it(tmp_path: Path) -> None:
    run = simulate(tmp_path / "cross", "crosschannel", customers=250, seed=12)
    code, summary = replay(run.path, "builtin", *FAST)
    assert code == 0 and summary["events"]["failed"] == 0 and summary["checks"]["violations"] == 0
    assert summary["checks"]["checked"] > 0
    (folder,) = (run.path / "replays").iterdir()
    assert (folder / "backend.sqlite3").is_file()  # the builtin backend's state, kept for a look
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(run.path), "-o", str(tmp_path / "report.html")])
    assert not exit_.value.code
    page = (tmp_path / "report.html").read_text()
    section = page[page.index('<section id="replay">') :]
    section = section[: section.index("</section>")]
    assert f"replay {folder.name}" in section and f"{summary['events']['sent']:,} requests, valid" in section
    log = pq.read_table(folder / "requests", columns=["channel"])
    for channel, n in collections.Counter(log.column("channel").to_pylist()).items():
        assert f'<td>{channel}</td><td class="num">{n:,}</td>' in section  # a row per channel, counted
    assert "0 violations" in section
