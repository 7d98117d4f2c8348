"""The retailer's economics: what turns a day's revenue and service work into gross margin.

A scenario may give them in an ``[economics]`` table; what it leaves out takes the defaults in
``parcours/output/economics.py``, each an assumption with its reason (no single published source gives
these figures for a French non-food retailer; the seeds say integration needs "significant investment"
and give no figure).
``parcours explain`` turns each capability's contribution into gross margin per year with them, the
most a retailer should spend on that capability a year; the report shows service costs per channel.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from parcours.specfile import Spec

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Euros = Annotated[float, Field(ge=0.0)]


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
