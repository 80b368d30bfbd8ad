"""The demo roaster's newsletter: a realistic share confirmed, the same on every build."""

from __future__ import annotations

from datetime import date

import pytest

from treu.customers.models import Customer
from treu.demo.generator import DemoOptions, build_demo, reset_demo
from treu.messaging.models import Consent, ConsentRecord, ConsentState

pytestmark = pytest.mark.django_db
UNTIL = date(2025, 6, 30)


def build():
    build_demo(DemoOptions(customers=150, seed=42, years=3, until=UNTIL))
    return sorted(
        Consent.objects.values_list("customer__number", "state", "source", "signed_up_at")
    )


def test_a_third_of_the_demo_customers_confirmed_the_newsletter_the_same_each_build():
    first = build()
    with_email = Customer.objects.exclude(email=None).count()
    active = Consent.objects.filter(state=ConsentState.ACTIVE)
    assert 0.2 * with_email <= active.count() <= 0.45 * with_email
    for consent in active:
        actions = list(
            consent.records.order_by("occurred_at", "id").values_list("action", flat=True)
        )
        assert actions == ["signup", "mail_sent", "confirmed"]
        assert consent.address == consent.customer.email
    assert ConsentRecord.objects.filter(action="confirmed", ip__isnull=True).count() == 0
    reset_demo()
    assert not ConsentRecord.objects.exists()
    assert build() == first
