"""Building order histories for the analytics tests: orders in known Berlin months."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from treu.analytics import services
from treu.analytics.models import PeriodFigures, month_index
from treu.commerce.tests.factories import make_order

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int = 15, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def order(customer, at: datetime, cents: int = 2000, **kwargs):
    """One paid order of `cents` gross (one line at 7 % VAT)."""
    return make_order(customer=customer, placed_at=at, lines=((1, cents, 700),), **kwargs)


def recompute(now: datetime):
    return services.recompute_analytics(now=now)


def figures(year: int, month: int, months: int = 1) -> PeriodFigures:
    from datetime import date

    return PeriodFigures.objects.get(month_index=month_index(date(year, month, 1)), months=months)
