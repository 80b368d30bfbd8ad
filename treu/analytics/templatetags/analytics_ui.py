"""Formatting of KPI values by their kind."""

from __future__ import annotations

import math

from django import template
from django.utils import formats
from django.utils.translation import ngettext, pgettext

from treu.core.templatetags.treu_ui import eur, percent

register = template.Library()


def _number(value, decimals: int) -> str:
    return formats.number_format(float(value), decimal_pos=decimals, use_l10n=True)


@register.filter
def metric(value, kind: str) -> str:
    """A KPI value as the reader sees it: '28,4 %', '30,55 €', '1,42', '51 Tage', '1.234'."""
    if value is None or value == "":
        return "–"
    if kind == "percent":
        return percent(value)
    if kind == "cents":
        return eur(value)
    if kind == "ratio":
        return _number(value, 2)
    if kind == "days":
        days = round(float(value))
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": _number(value, 0)}
    return formats.number_format(int(value), use_l10n=True, force_grouping=True)


@register.filter
def delta(value, kind: str) -> str:
    """A change: percentage points for rates ('+2,1 Pp.'), relative for the rest ('−3,0 %')."""
    if value is None or value == "":
        return "–"
    sign = "+" if value > 0 else ("\u2212" if value < 0 else "±")
    if kind == "percent":
        unit = pgettext("percentage points", "pp")
        return f"{sign}{_number(abs(value) * 100, 1)}\u00a0{unit}"
    return f"{sign}{percent(abs(value))}"


@register.filter
def churn_label(value) -> str:
    """The churn-risk band of a prediction as its label ('' without a prediction)."""
    from treu.analytics.models import ChurnRisk

    return str(ChurnRisk(value).label) if value in ChurnRisk.values else ""


def _signed(text: str, value: float) -> str:
    return f"{'+' if value > 0 else ('−' if value < 0 else '±')}{text}"


@register.filter
def uplift_share(value) -> str:
    """A group's conversion (a share) as a percentage: '12,4 %'."""
    return "–" if value is None else percent(value)


@register.filter
def uplift_cents(value) -> str:
    """A group's revenue per person (cents, a statistic) rounded to the cent: '4,17 €'."""
    return "–" if value is None else eur(round(value))


def _interval(low: float, high: float, show) -> str:
    if math.isinf(low) or math.isinf(high):
        return ""
    return " " + pgettext("confidence interval", "(%(low)s to %(high)s)") % {
        "low": show(low),
        "high": show(high),
    }


@register.filter
def uplift_points(uplift) -> str:
    """A conversion difference in percentage points with its 95 % interval."""
    unit = pgettext("percentage points", "pp")

    def show(value: float) -> str:
        return _signed(f"{_number(abs(value) * 100, 1)}\u00a0{unit}", value)

    return show(uplift.difference) + _interval(uplift.low, uplift.high, show)


@register.filter
def uplift_euro(uplift) -> str:
    """A revenue-per-person difference in euros with its 95 % interval."""

    def show(value: float) -> str:
        return _signed(eur(round(abs(value))), value)

    return show(uplift.difference) + _interval(uplift.low, uplift.high, show)
