"""Traffic shaped like a retailer's: campaigns sent at a platform's throughput over a send window, a
call centre staffed for the default day, and runs of a handful of customers that work end to end."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parcours.cli.main import main
from parcours.output.reader import Run
from tests.fault_server import FaultServer
from tests.support import simulate

OMNI = Path(__file__).parent.parent / "parcours" / "scenarios" / "omnichannel.toml"
PARIS = ZoneInfo("Europe/Paris")


def cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
        raise SystemExit(0)
    return int(exit_.value.code or 0)


def sends(run: Run, campaign_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(customer, send time in seconds) of every message_sent, of one campaign id if given."""
    t = run.events(["customer_id", "ts", "event_type", "campaign_id"])
    mask = pc.equal(t.column("event_type").cast(pa.string()), "message_sent")
    if campaign_id is not None:
        mask = pc.and_(mask, pc.equal(t.column("campaign_id"), campaign_id))
    t = t.filter(mask)
    return t.column("customer_id").to_numpy(), t.column("ts").cast(pa.int64()).to_numpy() / 1000.0


def busiest_second(seconds: np.ndarray) -> int:
    return int(np.unique(np.floor(seconds), return_counts=True)[1].max()) if len(seconds) else 0


def random_order_ceiling(per_s: float, seconds: float) -> int:
    """The most messages a second may hold when a platform sends ``per_s`` a second in a random order for
    ``seconds``: the count whose Poisson tail, over all those seconds, has a chance under 1 in 1,000."""
    k, pmf, tail = 0, math.exp(-per_s), 1.0
    while seconds * tail >= 1e-3:
        tail -= pmf
        k += 1
        pmf *= per_s / k
    return k


def one_email_scenario(tmp_path: Path, per_hour: float, customers: int, over_hours: str = "") -> Path:
    """The omnichannel day with one e-mail to every opt-in at 10:00, sent at ``per_hour``, to a file
    the size of the run (so that the run's messages are all the platform sends)."""
    text = OMNI.read_text()
    text = text[: text.index("[[campaigns]]")]  # the ordinary calendar goes: one campaign, known
    text = text.replace("serves_customers = 200000", f"serves_customers = {customers}")
    text += (
        f'[[campaigns]]\nname = "offer"\nchannel = "email"\nday = 1\nat = "10:00"\n{over_hours}\n'
        f'[sending]\nemail_per_hour = {per_hour}\nremarks = "a test platform"\n'
    )
    path = tmp_path / "one_email.toml"
    path.write_text(text)
    return path


# -- 1. campaigns over a send window ------------------------------------------------------------------


def test_a_campaign_leaves_at_the_platforms_throughput_not_in_one_instant(tmp_path: Path) -> None:
    """Every opt-in's message leaves after 10:00, over the window the platform needs at 7,200 an hour;
    no second holds much more than the platform's two a second (a random order: Poisson's tail)."""
    per_hour, customers = 7200.0, 20000
    cli(
        "simulate", "-s", str(one_email_scenario(tmp_path, per_hour, customers)),
        "-n", str(customers), "--seed", "7", "-o", str(tmp_path / "run"), "--no-progress",
    )  # fmt: skip
    _, at = sends(Run(tmp_path / "run"))
    ten = dt.datetime(2026, 11, 24, 10, tzinfo=PARIS).timestamp()
    n = len(at)
    assert n > 1500  # about 11% of 20,000 customers opt in to e-mail
    assert at.min() >= ten
    window = at.max() - ten
    assert window == pytest.approx(n / per_hour * 3600.0, rel=0.1)  # the platform's pace, start to end
    # was every message in one instant; now what two a second in a random order give
    assert busiest_second(at) <= random_order_ceiling(per_hour / 3600.0, window)


def test_a_send_spread_over_hours_takes_them_and_opens_follow_each_message(tmp_path: Path) -> None:
    cli(
        "simulate", "-s", str(one_email_scenario(tmp_path, 15000, 20000, "over_hours = 3")),
        "-n", "20000", "--seed", "7", "-o", str(tmp_path / "run"), "--no-progress",
    )  # fmt: skip
    run = Run(tmp_path / "run")
    who, sent = sends(run)
    ten = dt.datetime(2026, 11, 24, 10, tzinfo=PARIS).timestamp()
    assert 2.8 * 3600 <= sent.max() - ten <= 3 * 3600  # spread over the 3 hours asked for
    t = run.events(["customer_id", "ts", "event_type"])
    opened = t.filter(pc.equal(t.column("event_type").cast(pa.string()), "message_opened"))
    open_who = opened.column("customer_id").to_numpy()
    open_at = opened.column("ts").cast(pa.int64()).to_numpy() / 1000.0
    sent_at = dict(zip(who.tolist(), sent.tolist(), strict=True))  # one message each
    delay = open_at - np.array([sent_at[c] for c in open_who.tolist()])
    assert len(delay) > 200 and (delay >= 0).all()  # each opened after its own message left
    # opens follow the messages over the window: late messages are opened late
    late = np.array([sent_at[c] for c in open_who.tolist()]) > ten + 1.5 * 3600
    assert np.median(open_at[late]) - np.median(open_at[~late]) > 3600


def test_the_default_day_s_offer_goes_out_over_the_afternoon(omni_run: Run) -> None:
    """The built-in targeted e-mail (11:30, spread over 7 hours): on one shard and on two, the busiest
    second of its sends holds a handful, where it held all of them."""
    _, at = sends(omni_run)
    start = dt.datetime(2026, 11, 24, 11, 30, tzinfo=PARIS).timestamp()
    assert len(at) > 5000 and at.min() >= start
    assert 6.5 * 3600 <= at.max() - start <= 7 * 3600
    assert busiest_second(at) <= random_order_ceiling(len(at) / (7 * 3600), 7 * 3600)


@pytest.mark.slow
def test_a_whole_day_of_2000_customers_replays_valid_against_a_half_second_backend(tmp_path: Path) -> None:
    """The default day at --speed 3600 against a server answering in 0.5 s, default connections (100):
    the replay keeps its schedule (it was invalid: the offer's 233 messages fell in one instant)."""
    simulate(tmp_path / "run", customers=2000)
    with FaultServer(lambda n: "delay", delay_s=0.5, hang_max_s=5.0) as server:
        code = subprocess.call(
            [sys.executable, "-m", "parcours", "replay", str(tmp_path / "run"), "--target", server.url,
             "--speed", "3600", "--out", str(tmp_path / "out")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=240,
        )  # fmt: skip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["valid"], summary["invalid_reason"]
    assert code == 0 and summary["events"]["ok"] == summary["events"]["in_file"]


# -- 2. staffing that serves the default day -----------------------------------------------------------


def _calls(run: Run) -> tuple[int, int, int]:
    t = run.events(["event_type", "wait_s"])
    kind = t.column("event_type").cast(pa.string())
    queued = pc.sum(pc.equal(kind, "call_queued")).as_py()
    answered = t.filter(pc.equal(kind, "call_answered"))
    in_time = pc.sum(pc.less_equal(answered.column("wait_s"), 20.0)).as_py()
    return queued, in_time or 0, pc.sum(pc.equal(kind, "call_abandoned")).as_py()


def test_the_20000_customer_day_is_inside_its_published_ranges_and_black_friday_queues(
    tmp_path: Path,
) -> None:
    ordinary = simulate(tmp_path / "day", customers=20000)
    assert cli("realism", str(tmp_path / "day"), "-o", str(tmp_path / "day.json"), "--format", "json") == 0
    figures = {f["id"]: f for f in json.loads((tmp_path / "day.json").read_text())["figures"]}
    assert figures["R10"]["verdict"] == "inside"  # calls answered within 20 s
    assert figures["R11"]["verdict"] in ("inside", "too few to check")  # abandoned: a handful of 90
    peak = simulate(tmp_path / "peak", "black_friday", customers=20000)
    (q0, fast0, _), (q1, fast1, gone1) = _calls(ordinary), _calls(peak)
    assert q1 > 2 * q0  # the peak's calls meet a roster sized for an ordinary day
    assert fast1 / q1 < fast0 / q0 - 0.3 and gone1 / q1 > 0.2


@pytest.mark.slow
def test_the_demo_day_of_200000_customers_is_inside_its_published_ranges(tmp_path: Path) -> None:
    """`make demo`'s run: it was outside (59% of calls answered within 20 s, 17% abandoned)."""
    simulate(tmp_path / "demo", customers=200000)
    assert cli("realism", str(tmp_path / "demo"), "-o", str(tmp_path / "demo.txt")) == 0


# -- 8. small runs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("customers", [1, 2, 10])
def test_a_run_of_a_handful_of_customers_simulates_reports_and_checks(tmp_path: Path, customers: int) -> None:
    run = tmp_path / "run"
    for seed in ("1", "7"):
        argv = ["simulate", "-n", str(customers), "--seed", seed, "-o", str(run), "--no-progress"]
        assert cli(*argv, "--overwrite") == 0
        assert Run(run).manifest.counts.customers == customers
        assert cli("report", str(run), "-o", str(run / "report.html")) == 0
        assert (run / "report.html").stat().st_size > 1000
        assert cli("realism", str(run), "-o", str(tmp_path / "realism.txt")) == 0


def test_the_documented_first_day_1970_01_01_is_accepted(tmp_path: Path) -> None:
    assert (
        cli("simulate", "-n", "300", "--start", "1970-01-01", "-o", str(tmp_path / "r"), "--no-progress") == 0
    )
    ts = Run(tmp_path / "r").events(["ts"]).column("ts").cast(pa.int64()).to_numpy() / 1000.0
    first = dt.datetime(1970, 1, 1, tzinfo=PARIS).timestamp()
    assert len(ts) > 0 and ts.min() >= first and ts.max() < first + 86400


def test_workers_above_the_stores_are_treated_alike_with_and_without_replicates(tmp_path: Path) -> None:
    """3,000 customers are two stores: --workers 4 runs two shards, in a run and in a run set alike."""
    base = ["simulate", "-n", "3000", "--workers", "4", "--no-progress"]
    assert cli(*base, "-o", str(tmp_path / "one")) == 0
    assert cli(*base, "--replicates", "2", "-o", str(tmp_path / "set")) == 0
    assert Run(tmp_path / "one").manifest.shards == 2
    for rep in sorted((tmp_path / "set").glob("rep-*")):
        assert Run(rep).manifest.shards == 2
