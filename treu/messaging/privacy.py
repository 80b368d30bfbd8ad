"""How messaging's personal rows leave the system (see treu.core.privacy)."""

from __future__ import annotations

from django.db.models import Q

from treu.core import privacy
from treu.messaging.models import MessageEvent, OutboundMessage, Suppression

MESSAGE_FIELDS = [
    "created_at",
    "sent_at",
    "to_email",
    "subject",
    "purpose",
    "status",
    "delivery_status",
    "delivery_status_at",
]
EVENT_FIELDS = ["message__subject", "kind", "at", "url"]


def _messages_of(customer):
    # Also the mails written to the address before it belonged to a customer record.
    mails = Q(customer_id=customer.pk)
    if customer.email:
        mails |= Q(to_email__iexact=customer.email)
    return OutboundMessage.objects.filter(mails)


def _suppressions_of(customer):
    if not customer.email:
        return Suppression.objects.none()
    return Suppression.objects.filter(email=customer.email.lower())


privacy.register(
    OutboundMessage,
    customer="customer",
    fields=MESSAGE_FIELDS,
    erasure=privacy.Erasure.DELETE,
    exporter=lambda customer: list(_messages_of(customer).values(*MESSAGE_FIELDS)),
    eraser=lambda customer: _messages_of(customer).delete()[0],
)


def _events_of(customer):
    return MessageEvent.objects.filter(message__in=_messages_of(customer))


# Opens and clicks go with their mails (the foreign key cascades); erased first all the same.
privacy.register(
    MessageEvent,
    customer="message__customer",
    fields=EVENT_FIELDS,
    erasure=privacy.Erasure.DELETE,
    exporter=lambda customer: list(_events_of(customer).values(*EVENT_FIELDS)),
    eraser=lambda customer: _events_of(customer).delete()[0],
)
privacy.register(
    Suppression,
    customer="email",
    fields=["email", "reason", "created_at"],
    erasure=privacy.Erasure.DELETE,
    exporter=lambda customer: list(
        _suppressions_of(customer).values("email", "reason", "created_at")
    ),
    eraser=lambda customer: _suppressions_of(customer).delete()[0],
)
