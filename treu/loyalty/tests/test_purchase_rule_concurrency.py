"""On PostgreSQL: batches racing for one member's once-only rule award it once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import PointsEntry, PurchaseRuleUse
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program
from treu.loyalty.tests.rules import ESPRESSO, buy, catalogue
from treu.loyalty.tests.test_concurrency import _all_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_batches_racing_for_a_once_rule_award_it_once():
    catalogue()
    customer = CustomerFactory()
    # Placed before the programme was set up, so no subscriber awarded them yet.
    orders = [
        buy(customer, (ESPRESSO, 1, 2000), placed_at=timezone.now() - timedelta(hours=n + 1))
        for n in range(10)
    ]
    start_program()
    member = services.join_program(customer=customer, now=timezone.now() - timedelta(days=5))
    rule = services.save_purchase_rule(
        name="Erstbestellung", kind="per_order", points=100, limit="once",
        starts_on=date(2020, 1, 1),
    )  # fmt: skip
    pending = iter(orders)
    results = _all_at_once(
        10, lambda: services.award_points_for_orders([next(pending).pk, orders[0].pk])
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert PointsEntry.objects.filter(source_rule=rule.tag).count() == 1
    assert PurchaseRuleUse.objects.count() == 1
    assert PointsEntry.objects.filter(source_rule="purchase").count() == 10
    assert_sums_match_ledger(member)
    assert member.pending_points == 10 * 20 + 100
