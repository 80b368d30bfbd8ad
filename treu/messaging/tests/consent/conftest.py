"""Helpers and fixtures of the consent tests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from treu.messaging import services
from treu.messaging.models import Channel, ConsentText, LegalBasis

CONFIRM_LINK = re.compile(r"/messaging/newsletter/bestaetigen/([\w-]+)/")


def token_of(mail) -> str:
    """The confirmation token in a sent (or captured) mail's text."""
    body = mail.body if hasattr(mail, "body") else mail.text_body
    return CONFIRM_LINK.search(body).group(1)


def wording(basis: str = LegalBasis.CONSENT) -> ConsentText:
    return ConsentText.objects.filter(channel=Channel.EMAIL, basis=basis).order_by("-version")[0]


def deliver() -> int:
    """Send what the outbox holds, as the worker does after the commit; how many went out."""
    return services.send_due_messages(now=timezone.now() + timedelta(days=3650), limit=100).sent


def sign_up(customer_or_email, **kwargs):
    """Sign up and let the worker send the confirmation mail."""
    values = {"source": "page", "ip": "198.51.100.7"}
    values.update(kwargs)
    result = services.subscribe_to_newsletter(customer_or_email, **values)
    deliver()
    return result


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run a block like a request: its events reach the subscribers once it commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def topics(db):
    return [
        services.save_topic(name="Neuigkeiten", position=0, similar_products=True),
        services.save_topic(name="Angebote", position=1, similar_products=True),
        services.save_topic(name="Kaffeewissen", position=2),
    ]


@pytest.fixture
def anna_active(anna, mailoutbox):
    """Anna, signed up and confirmed."""
    result = sign_up(anna)
    return services.confirm_consent(token=result.token, ip="203.0.113.9")
