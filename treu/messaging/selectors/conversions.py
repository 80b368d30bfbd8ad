"""Orders attributed to the marketing mails that came before them (last touch).

An order counts for a mail when the customer placed it within the attribution window
(`MESSAGING_ATTRIBUTION_DAYS`, default 5) after the mail was sent; of several such mails
the one sent last wins. Everything is one aggregate in the database: each order finds its
last mail with a correlated subquery over the outbox's (customer, sent) rows, and orders
are summed per key prefix ("campaign:7" of "campaign:7:customer:42").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Left, StrIndex
from django.utils import timezone

from treu.commerce import selectors as commerce_selectors
from treu.messaging.models import MessagePurpose, MessageStatus, OutboundMessage

CUSTOMER_PART = ":customer:"


@dataclass(frozen=True)
class Conversions:
    prefix: str
    orders: int
    revenue_cents: int


def attribution_window() -> timedelta:
    return timedelta(days=settings.MESSAGING_ATTRIBUTION_DAYS)


def key_prefix():
    """The key up to ":customer:" (the whole key where it has no customer part)."""
    at = StrIndex("key", Value(CUSTOMER_PART))
    return Case(
        When(**{"key__contains": CUSTOMER_PART}, then=Left("key", at - 1)),
        default=F("key"),
        output_field=CharField(),
    )


def attributed_orders(
    *,
    window: timedelta | None = None,
    placed_since: datetime | None = None,
    placed_before: datetime | None = None,
):
    """Live orders (after refunds) with the key prefix of the mail they are attributed to."""
    window = window or attribution_window()
    placed_before = placed_before or timezone.now()
    last_touch = (
        OutboundMessage.objects.filter(
            customer_id=OuterRef("customer_id"),
            purpose=MessagePurpose.MARKETING,
            status=MessageStatus.SENT,
            sent_at__lte=OuterRef("placed_at"),
            sent_at__gt=ExpressionWrapper(
                OuterRef("placed_at") - Value(window), output_field=DateTimeField()
            ),
        )
        .order_by("-sent_at", "-id")
        .annotate(prefix=key_prefix())
        .values("prefix")[:1]
    )
    orders = commerce_selectors.live_order_facts(placed_before=placed_before).filter(
        customer_id__isnull=False
    )
    if placed_since is not None:
        orders = orders.filter(placed_at__gte=placed_since)
    return orders.annotate(touch=Subquery(last_touch)).filter(touch__isnull=False)


def conversions_by_prefix(
    prefixes: list[str] | None = None,
    *,
    window: timedelta | None = None,
    placed_since: datetime | None = None,
    placed_before: datetime | None = None,
) -> dict[str, Conversions]:
    """Orders and revenue (cents, after refunds) attributed per key prefix."""
    orders = attributed_orders(
        window=window, placed_since=placed_since, placed_before=placed_before
    )
    if prefixes is not None:
        orders = orders.filter(touch__in=list(prefixes))
    rows = (
        orders.values("touch")
        .annotate(n=Count("id"), revenue=Sum("revenue_cents"))
        .values_list("touch", "n", "revenue")
        .order_by("touch")
    )
    found = {
        prefix: Conversions(prefix=prefix, orders=n, revenue_cents=int(revenue or 0))
        for prefix, n, revenue in rows
    }
    for prefix in prefixes or []:
        found.setdefault(prefix, Conversions(prefix=prefix, orders=0, revenue_cents=0))
    return found


def marketing_mail_facts(*, sent_before: datetime):
    """Marketing mails sent before a moment as (sent_at,) rows: for analytics to count per
    month in its own SQL (compiled, never iterated)."""
    return (
        OutboundMessage.objects.filter(
            purpose=MessagePurpose.MARKETING, status=MessageStatus.SENT, sent_at__lt=sent_before
        )
        .order_by()
        .values("sent_at")
    )
