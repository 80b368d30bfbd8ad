"""Privacy registrations for core's own models."""

from __future__ import annotations

from django.db.models import Q

from treu.core import privacy
from treu.core.models import CapturedMail, DomainEvent, NumberSequence

privacy.register(
    DomainEvent,
    customer="customer",
    fields=["kind", "occurred_at", "source", "payload"],
    erasure=privacy.Erasure.DELETE,
)


def _mails_to(customer):
    if not customer.email:
        return CapturedMail.objects.none()
    # Recipients are stored one per line; match the whole line.
    email = customer.email
    return CapturedMail.objects.filter(
        Q(to=email) | Q(to__startswith=f"{email}\n") | Q(to__endswith=f"\n{email}")
        | Q(to__contains=f"\n{email}\n")
    )  # fmt: skip


privacy.register(
    CapturedMail,
    customer="to",
    fields=["sent_at", "subject", "text_body"],
    erasure=privacy.Erasure.DELETE,
    exporter=lambda customer: list(_mails_to(customer).values("sent_at", "subject", "text_body")),
    eraser=lambda customer: _mails_to(customer).delete()[0],
)
privacy.not_personal(NumberSequence, reason="Counter names, no person.")
