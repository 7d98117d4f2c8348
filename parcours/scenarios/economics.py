"""The retailer's economics: what turns a day's revenue and service work into gross margin.

A scenario may give them in an ``[economics]`` table; what it leaves out takes the defaults below,
each an assumption with its reason (no single published source gives these figures for a French
non-food retailer; the seeds say integration needs "significant investment" and give no figure).
``parcours explain`` turns each capability's contribution into gross margin per year with them, the
most a retailer should spend on that capability a year; the report shows service costs per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from parcours.specfile import Spec

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Euros = Annotated[float, Field(ge=0.0)]

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


class Economics(Spec):
    """Gross margin rate and the cost of each unit of service work, in euros; a figure left out (None)
    takes its default, labelled an assumption (None survives a round trip through TOML and run.json,
    so a default stays labelled as one)."""

    gross_margin_rate: Rate | None = None
    cost_per_agent_hour_eur: Euros | None = None
    cost_per_staff_hour_eur: Euros | None = None
    cost_per_click_collect_order_eur: Euros | None = None
    cost_per_return_eur: Euros | None = None
    days_per_year: Annotated[float, Field(gt=0.0, le=366.0)] | None = None
    remarks: str | None = None  # where the scenario's own figures come from

    def terms(self) -> Terms:
        given = {name: getattr(self, name) for name in DEFAULTS}
        values = {name: DEFAULTS[name] if v is None else float(v) for name, v in given.items()}
        assumed = {name: ASSUMPTIONS[name] for name, v in given.items() if v is None}
        return Terms(**values, assumed=assumed, remarks=self.remarks or "")
