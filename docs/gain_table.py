"""The table "Where each level's revenue gain comes from" of docs/model.md, from two explain JSON files.

    parcours explain multichannel crosschannel --replicates 5 --workers 2 --format json -o cross.json
    parcours explain multichannel omnichannel --replicates 5 --workers 2 --format json -o omni.json
    python docs/gain_table.py cross.json omni.json

Prints the Markdown table: revenue (EUR a day) of FROM, the whole difference and each capability's
Shapley contribution, mean [95% interval] over the replicates; "(holds 0)" marks an interval that
contains zero.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FIGURE = "revenue_eur_per_day"


def signed(x: float) -> str:
    return f"{x:+,.0f}".replace("+-", "-") if round(x) != 0 else "+0"


def value(v: Any) -> str:
    return ("yes" if v else "no") if isinstance(v, bool) else str(v)


def estimate(e: dict[str, Any]) -> str:
    low, high = e["ci_low"], e["ci_high"]
    text = f"{signed(e['mean'])} [{signed(low)}, {signed(high)}]"
    if low < 0 < high:
        text += " (holds 0)"
    return text


def level(e: dict[str, Any]) -> str:
    return f"{e['mean']:,.0f} [{e['ci_low']:,.0f}, {e['ci_high']:,.0f}]"


def table(paths: list[Path]) -> str:
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    figures = [r["figures"][FIGURE] for r in runs]
    names = [r["to"] for r in runs]
    source = runs[0]["from"]
    lines = [
        "| capability | " + " | ".join(f"{n} - {source}" for n in names) + " |",
        "|---|" + "---|" * len(runs),
        f"| revenue of {source} (EUR a day) | " + " | ".join(level(f["from"]) for f in figures) + " |",
        "| whole difference | " + " | ".join(estimate(f["total"]) for f in figures) + " |",
    ]
    order: dict[str, str] = {}
    for f in figures:
        for c in f["contributions"]:
            order.setdefault(c["capability"], f"`{c['capability']}`")
    for capability, label in order.items():
        cells = []
        for name, f in zip(names, figures, strict=True):
            found = [c for c in f["contributions"] if c["capability"] == capability]
            if not found:
                cells.append(f"- (not in {name})")
                continue
            c = found[0]
            cells.append(f"{estimate(c)}, {value(c['from'])} -> {value(c['to'])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    first = runs[0]
    lines.append("")
    lines.append(
        f"n = {first['replicates']} replicates of {first['customers']:,} customers each, root seed "
        f"{first['root_seed']}, {first['start']}; "
        + "; ".join(f"{r['to']}: {r['combinations']} combinations, {r['method']}" for r in runs)
        + "."
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(table([Path(a) for a in argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
