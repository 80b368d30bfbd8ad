"""Building histories for the analytics tests: orders in known Berlin months, loyalty
members and their points, marketing mails."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from treu.analytics import services
from treu.analytics.models import PeriodFigures, month_index
from treu.commerce.tests.factories import make_order
from treu.loyalty.models import Member, PointsEntry
from treu.messaging import services as messaging_services
from treu.messaging.models import MessageStatus, OutboundMessage

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


def join(customer, at):
    """The customer joins the loyalty programme at `at` (its sums are not needed here)."""
    return Member.objects.create(customer=customer, joined_at=at)


def book(member, kind: str, points: int, at, status: str = "available") -> None:
    """A points ledger row booked at `at`."""
    entry = PointsEntry.objects.create(
        member=member, kind=kind, points=points, status=status, available_at=at
    )
    PointsEntry.objects.filter(pk=entry.pk).update(created_at=at)  # auto_now_add otherwise


def mail(customer, key: str, sent) -> None:
    """A marketing mail to the customer, sent at `sent`."""
    messaging_services.enqueue_messages(
        [
            messaging_services.NewMessage(
                key=key,
                to_email=customer.email,
                customer_id=customer.pk,
                subject="Hallo",
                text_body="x",
                purpose="marketing",
            )
        ]
    )
    OutboundMessage.objects.filter(key=key).update(status=MessageStatus.SENT, sent_at=sent)
