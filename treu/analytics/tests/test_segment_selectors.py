"""`figures_in_segments`: the RFM segment rule of messaging's segments."""

from __future__ import annotations

import pytest
from django.utils import timezone

from treu.analytics import selectors
from treu.analytics.models import CustomerFigures
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_figures_in_segments_match_the_customers_rfm_segment():
    anna = CustomerFactory()
    now = timezone.now()
    CustomerFigures.objects.create(
        customer=anna, first_order_at=now, last_order_at=now, first_month=1, orders=1,
        revenue_cents=100, recency_score=1, frequency_score=1, monetary_score=1, fm_score=1,
        segment="at_risk",
    )  # fmt: skip
    assert selectors.figures_in_segments(customer=anna.pk, segments=["at_risk", "lost"]).exists()
    assert not selectors.figures_in_segments(customer=anna.pk, segments=["champions"]).exists()
    assert not selectors.figures_in_segments(
        customer=CustomerFactory().pk, segments=["at_risk"]
    ).exists()
