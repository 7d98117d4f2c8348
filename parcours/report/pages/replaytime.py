"""A replay over time, and the revenue of the events it replayed.

The chart puts the replay's wall-clock time on the x axis (seconds from its first due event): requests
sent per second, the customers' wait (corrected latency, p50 and p99) and the replay's own lag behind
its schedule (p99), per bin of about a sixtieth of the replay. The revenue is that of the purchases
the replay sent (joined on ``event_id``), so it sits beside the requests of the same window rather
than a whole day's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from parcours.output.reader import Run
from parcours.output.replays import REQUESTS_DIR
from parcours.report.plots.style import figure, png_base64

BINS = 60


def _us(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.cast(pa.int64()).to_numpy(), np.int64)


def replay_chart(replay: Path) -> str | None:
    """The replay over time as a PNG (None when the log is empty)."""
    log = ds.dataset(str(replay / REQUESTS_DIR), format="parquet").to_table(columns=["due", "sent", "done"])
    if log.num_rows == 0:
        return None
    due, sent, done = (_us(log[c]) for c in ("due", "sent", "done"))
    t0 = int(due.min())
    t = (sent - t0) / 1e6
    width = max(float(t.max()) / BINS, 1.0)
    which = (t // width).astype(np.int64)
    n_bins = int(which.max()) + 1
    centre = (np.arange(n_bins) + 0.5) * width
    rate = np.bincount(which, minlength=n_bins) / width
    waited, lag = (done - due) / 1e3, (sent - due) / 1e3
    stats = np.full((3, n_bins), np.nan)
    for b in np.unique(which):
        chosen = which == b
        stats[:, b] = (
            np.percentile(waited[chosen], 50),
            np.percentile(waited[chosen], 99),
            np.percentile(lag[chosen], 99),
        )
    with figure(3.2) as fig:
        left, right = fig.subplots(1, 2)
        left.bar(centre, rate, width=width * 0.9, color="#4e79a7")
        left.set_xlabel("seconds into the replay")
        left.set_ylabel("requests sent per second")
        left.set_title("Requests over the replay")
        right.plot(centre, stats[0], color="#59a14f", label="customer wait p50 (corrected latency)")
        right.plot(centre, stats[1], color="#e15759", label="customer wait p99")
        right.plot(centre, stats[2], color="#9c755f", linestyle="--", label="replay lag p99 (sent - due)")
        right.set_yscale("symlog", linthresh=1.0)
        right.set_xlabel("seconds into the replay")
        right.set_ylabel("ms (log scale above 1 ms)")
        right.set_title("Waits and lag over the replay")
        right.legend(fontsize=8, loc="upper left")
        return png_base64(fig)


def window_revenue(run_path: str, replay: Path) -> tuple[dict[str, float], dict[str, float]]:
    """€ of the purchases the replay sent, by channel and by persona."""
    sent = ds.dataset(str(replay / REQUESTS_DIR), format="parquet").to_table(columns=["event_id"])
    run = Run(Path(run_path))
    ev = run.events(["event_id", "event_type", "amount_cents", "channel", "persona"])
    ev = ev.filter(pc.equal(ev["event_type"].cast(pa.string()), "purchase"))
    ev = ev.filter(pc.is_in(ev["event_id"], value_set=pc.unique(sent["event_id"])))
    out: list[dict[str, float]] = []
    for key in ("channel", "persona"):
        table = pa.table({"key": ev[key].cast(pa.string()), "cents": pc.fill_null(ev["amount_cents"], 0)})
        rows = table.group_by("key").aggregate([("cents", "sum")]).to_pylist()
        out.append({row["key"]: row["cents_sum"] / 100 for row in rows})
    return out[0], out[1]
