"""Helpers for tests of sends: customers with a confirmed newsletter consent, a template."""

from __future__ import annotations

from datetime import datetime

from treu.customers.tests.factories import AddressFactory, CustomerFactory
from treu.messaging import services
from treu.messaging.models import MailTemplate, MessagePurpose


def consenting_customer(*, country: str = "", now: datetime | None = None, **fields):
    """A customer who signed up and confirmed (double opt-in, as in real life)."""
    customer = CustomerFactory(**fields)
    if country:
        AddressFactory(customer=customer, country=country)
    result = services.subscribe_to_newsletter(customer, source="page", ip=None, now=now)
    services.confirm_consent(token=result.token, ip="203.0.113.9", now=now)
    return customer


def newsletter(*, kind: str = MessagePurpose.MARKETING, name: str = "Kaffee des Monats"):
    return services.save_mail_template(
        name=name,
        kind=kind,
        subject="{{ vorname|default:'Hallo' }}, der Kaffee des Monats ist da",
        blocks=[
            {"type": "heading", "text": "Hallo {{ vorname|default:'liebe Kundin' }}"},
            {"type": "text", "text": "Neu geröstet: Kolumbien, schokoladig."},
        ],
    )


def template_named(key: str) -> MailTemplate:
    return MailTemplate.objects.get(default_key=key)
