"""The customer value block on the customer's 360° page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.analytics.models import CustomerPrediction
from treu.analytics.tests.helpers import berlin, order, recompute

pytestmark = pytest.mark.django_db


def test_marketing_sees_the_rfm_segment_and_the_forecast(client_of, marketer, anna):
    order(anna, berlin(2025, 3, 1), 2500)
    order(anna, berlin(2025, 5, 1), 2500)
    recompute(berlin(2025, 6, 20))
    CustomerPrediction.objects.create(
        customer=anna, repeat_purchases=1, recency_days=61, age_days=111, p_alive=0.42,
        expected_90=0.3, expected_365=1.26, clv_cents=4210, churn_risk="high",
    )  # fmt: skip
    body = client_of(marketer).get(reverse("customers:detail", args=[anna.pk])).content.decode()
    assert 'id="customer-value"' in body
    assert "42 %" in body and "42,10" in body and "hoch" in body
    assert "metric=segment&amp;segment=" in body


def test_support_and_an_uncomputed_customer_see_no_block(client_of, agent, marketer, anna):
    order(anna, berlin(2025, 3, 1), 2500)
    recompute(berlin(2025, 6, 20))
    url = reverse("customers:detail", args=[anna.pk])
    assert 'id="customer-value"' not in client_of(agent).get(url).content.decode()
    from treu.customers.tests.factories import CustomerFactory

    fresh = CustomerFactory()
    fresh_url = reverse("customers:detail", args=[fresh.pk])
    assert 'id="customer-value"' not in client_of(marketer).get(fresh_url).content.decode()
