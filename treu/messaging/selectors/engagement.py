"""Reads of what customers did with marketing mails: for the engagement segment rule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from treu.messaging.models import MessageEvent, MessagePurpose, MessageStatus, OutboundMessage


def mail_events(*, customer, kinds: Iterable[str], since: datetime) -> QuerySet[MessageEvent]:
    """Opens and/or clicks (`EventKind` values) on or after `since` of the customer's mails.

    `customer` may be an `OuterRef`: the segment rule uses it as an EXISTS.
    """
    return MessageEvent.objects.filter(
        message__customer=customer, kind__in=list(kinds), at__gte=since
    )


def marketing_mails_sent(*, customer, since: datetime) -> QuerySet[OutboundMessage]:
    """The customer's marketing mails handed to the mail server on or after `since`."""
    return OutboundMessage.objects.filter(
        customer=customer,
        purpose=MessagePurpose.MARKETING,
        status=MessageStatus.SENT,
        sent_at__gte=since,
    )
