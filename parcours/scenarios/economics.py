"""The retailer's economics: what turns a day's revenue and service work into gross margin.

A scenario may give them in an ``[economics]`` table; what it leaves out takes the defaults below,
each an assumption with its reason (no single published source gives these figures for a French
non-food retailer; the seeds say integration needs "significant investment" and give no figure).
``parcours explain`` turns each capability's contribution into gross margin per year with them, the
most a retailer should spend on that capability a year; the report shows service costs per channel.
"""

from __future__ import annotations

from typing import Annotated

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


class Economics(Spec):
    """Gross margin rate and the cost of each unit of service work, in euros."""

    gross_margin_rate: Rate = 0.35
    cost_per_agent_hour_eur: Euros = 30.0
    cost_per_staff_hour_eur: Euros = 25.0
    cost_per_click_collect_order_eur: Euros = 3.0
    cost_per_return_eur: Euros = 10.0
    days_per_year: Annotated[float, Field(gt=0.0, le=366.0)] = 365.0
    remarks: str = ""  # where the scenario's own figures come from

    def assumed(self) -> dict[str, str]:
        """Each figure the scenario did not give, with the reason for its default."""
        return {name: why for name, why in ASSUMPTIONS.items() if name not in self.model_fields_set}

    def document(self) -> dict[str, object]:
        """The figures, and which of them are assumptions (for the JSON and the pages)."""
        values = self.model_dump(exclude={"remarks"})
        return {**values, "remarks": self.remarks, "assumptions": self.assumed()}


DEFAULT = Economics()
