"""Reads of the outbox: how many mails stand where, and the list behind each number."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from treu.messaging.models import EventKind, MessageStatus, OutboundMessage, Suppression


def status_counts() -> dict[str, int]:
    """Mails per status, every status present (0 when none)."""
    counts = dict(
        OutboundMessage.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in MessageStatus.values}


def outbox_messages(status: str | None = None) -> QuerySet[OutboundMessage]:
    messages = OutboundMessage.objects.only(
        "key", "to_email", "purpose", "subject", "status", "attempts", "last_error",
        "created_at", "sent_at", "not_before", "customer_id", "delivery_status",
        "delivery_status_at", "delivery_detail",
    ).annotate(
        opens=Count("events", filter=Q(events__kind=EventKind.OPEN)),
        clicks=Count("events", filter=Q(events__kind=EventKind.CLICK)),
    )  # fmt: skip
    if status in MessageStatus.values:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-id")


def suppressions() -> QuerySet[Suppression]:
    return Suppression.objects.order_by("-created_at", "-id")
