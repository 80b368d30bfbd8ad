"""The loyalty reads messaging's segments use: points balance and tier, per customer."""

from __future__ import annotations

import pytest
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors
from treu.loyalty.models import Member, MemberTier, Tier

pytestmark = pytest.mark.django_db


def test_members_with_points_filter_the_available_balance():
    anna = CustomerFactory()
    Member.objects.create(customer=anna, joined_at=timezone.now(), points_balance=100)
    assert selectors.members_with_points(customer=anna.pk, at_least=100).exists()
    assert not selectors.members_with_points(customer=anna.pk, at_least=101).exists()
    assert selectors.members_with_points(customer=anna.pk, more_than=99).exists()
    assert not selectors.members_with_points(customer=anna.pk, more_than=100).exists()
    assert not selectors.members_with_points(customer=CustomerFactory().pk).exists()


def test_members_in_tiers_hold_one_of_them_now():
    gold = Tier.objects.create(name="Gold", rank=2)
    silver = Tier.objects.create(name="Silber", rank=1)
    anna = CustomerFactory()
    member = Member.objects.create(customer=anna, joined_at=timezone.now())
    MemberTier.objects.create(member=member, tier=gold, updated_at=timezone.now())
    assert selectors.members_in_tiers(customer=anna.pk, tier_ids=[gold.pk, silver.pk]).exists()
    assert not selectors.members_in_tiers(customer=anna.pk, tier_ids=[silver.pk]).exists()
