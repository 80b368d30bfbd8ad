"""The loyalty KPIs page (owner and Marketing)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.dateformat import format as date_format

from treu.backoffice.access import staff_view
from treu.backoffice.charts import GroupedBarChart, grouped_bar_chart
from treu.loyalty import kpis, selectors, tier_selectors
from treu.loyalty.kpis import PointsMonth

# The programme's figures go to those who run the programme: whoever may see its settings
# (owner and Marketing). Support and the till serve members and never see what they cost.
KPI_PERMISSION = "loyalty.view_programsettings"


@staff_view(KPI_PERMISSION)
def loyalty_kpis(request):
    figures = kpis.loyalty_kpis()
    context = {
        "kpis": figures,
        "program": selectors.program_settings(),
        "chart": points_chart(figures.months),
        "active_days": kpis.ACTIVE_DAYS,
        "distribution": tier_selectors.tier_distribution(),  # empty without tiers
    }
    return render(request, "loyalty/kpis.html", context)


def points_chart(months: list[PointsMonth]) -> GroupedBarChart:
    """Issued, redeemed and expired side by side for each month (taken back is in the table)."""
    return grouped_bar_chart(
        [date_format(m.month, "M") for m in months],
        [[m.issued for m in months], [m.redeemed for m in months], [m.expired for m in months]],
        left=56,
    )
