"""The retailer's economics as a run records them: the defaults, why each is an assumption, and the
terms in force (a scenario's ``[economics]`` figures, the defaults for what it leaves out).

Here rather than beside the spec (``parcours/scenarios/economics.py`` validates the table) because both
the report (from ``run.json``) and ``explain`` (from a scenario) read them, and the report reads only
``output/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Why each default is what it is (shown beside the figure it changes).
ASSUMPTIONS: dict[str, str] = {
    "gross_margin_rate": (
        "assumption: 35% of sales, a middle value for a non-food specialist chain (sales less the cost "
        "of goods sold); chains publish their own in annual reports, and food retail runs far lower"
    ),
    "cost_per_agent_hour_eur": (
        "assumption: €30 an hour of a call-centre agent at work, wage with employer contributions, "
        "supervision and tools; above the French minimum wage of €11.88 gross an hour (1 Nov 2024, "
        "décret 2024-951)"
    ),
    "cost_per_staff_hour_eur": (
        "assumption: €25 an hour of store floor staff, wage with employer contributions (the same "
        "minimum wage as floor)"
    ),
    "cost_per_click_collect_order_eur": (
        "assumption: €3 to prepare a click & collect order, about 5 minutes of a preparer (the "
        "scenario's prepare_order_s) with packaging"
    ),
    "cost_per_return_eur": (
        "assumption: €10 to take back a return or exchange: handling, checking and putting back or "
        "writing off; carriers' and retailers' own figures vary widely"
    ),
    "days_per_year": (
        "assumption: a year is 365 days like the run's mean day; a one-weekday run overstates the year "
        "(Sundays, when stores are closed, count as weekdays): run whole weeks (--days 7) for a fairer year"
    ),
}


#: The defaults, each an assumption (ASSUMPTIONS says why).
DEFAULTS: dict[str, float] = {
    "gross_margin_rate": 0.35,
    "cost_per_agent_hour_eur": 30.0,
    "cost_per_staff_hour_eur": 25.0,
    "cost_per_click_collect_order_eur": 3.0,
    "cost_per_return_eur": 10.0,
    "days_per_year": 365.0,
}


@dataclass(frozen=True)
class Terms:
    """The economics in force: the scenario's figures, the defaults for the rest."""

    gross_margin_rate: float
    cost_per_agent_hour_eur: float
    cost_per_staff_hour_eur: float
    cost_per_click_collect_order_eur: float
    cost_per_return_eur: float
    days_per_year: float
    assumed: dict[str, str]  # each figure the scenario did not give, with the reason for its default
    remarks: str

    def document(self) -> dict[str, Any]:
        """The figures, and which of them are assumptions (for the JSON and the pages)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in DEFAULTS}
        return {**out, "remarks": self.remarks, "assumptions": self.assumed}


def terms(given: Mapping[str, Any]) -> Terms:
    """The terms in force from a scenario's ``[economics]`` as JSON (None or absent: the default)."""
    values = {name: DEFAULTS[name] if given.get(name) is None else float(given[name]) for name in DEFAULTS}
    assumed = {name: ASSUMPTIONS[name] for name in DEFAULTS if given.get(name) is None}
    return Terms(**values, assumed=assumed, remarks=str(given.get("remarks") or ""))
