"""On PostgreSQL, many checkouts and redemptions at once: one coupon use, no overspend."""

from __future__ import annotations

import itertools

import pytest

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import Coupon, CouponUse, PartnerCode, Redemption
from treu.loyalty.tests.conftest import assert_sums_match_ledger, make_reward, start_program
from treu.loyalty.tests.test_concurrency import _all_at_once, _staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _member_with(points: int):
    start_program()
    member = services.join_program(customer=CustomerFactory())
    services.adjust_points(member=member, points=points, reason="Start", staff_user=_staff())
    return member


def test_fifty_parallel_checkouts_of_one_coupon_use_it_once():
    member = _member_with(100)
    coupon = services.redeem_reward(member=member, reward=make_reward(points_cost=100)).coupon
    orders = itertools.count()

    def checkout():
        return services.consume_coupon(
            code=coupon.code, basket_cents=3000, shop="online", order_external_id=str(next(orders))
        )

    results = _all_at_once(50, checkout)
    won = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, services.CouponRefused)]
    assert len(won) == 1, [r for r in results if isinstance(r, Exception)][:3]
    assert len(refused) == 49 and {r.reason for r in refused} == {"used"}
    assert CouponUse.objects.count() == 1
    assert Coupon.objects.get().used_at is not None


def test_fifty_parallel_redemptions_against_one_balance_never_overspend():
    member = _member_with(1000)
    reward = make_reward("store_credit", points_cost=30, amount_cents=100)
    results = _all_at_once(50, lambda: services.redeem_reward(member=member, reward=reward))
    refused = [r for r in results if isinstance(r, services.LoyaltyError)]
    assert len(refused) == 50 - 33, [r for r in results if isinstance(r, Exception)][:3]
    assert Redemption.objects.count() == 33
    assert_sums_match_ledger(member)
    assert member.points_balance == 10
    assert member.credit_cents == 3300 == selectors.credit_sum(member.pk)


def test_parallel_redemptions_take_different_partner_codes_and_seats_are_not_oversold():
    member = _member_with(10_000)
    partner = make_reward("partner", points_cost=10)
    services.add_partner_codes(reward=partner, text="\n".join(f"KORN-{i}" for i in range(10)))
    event = make_reward("experience", points_cost=10, seats=5)
    codes = _all_at_once(20, lambda: services.redeem_reward(member=member, reward=partner))
    seats = _all_at_once(20, lambda: services.redeem_reward(member=member, reward=event))
    handed = [r.coupon.detail_code for r in codes if isinstance(r, Redemption)]
    assert sorted(handed) == sorted(f"KORN-{i}" for i in range(10))
    assert not PartnerCode.objects.filter(handed_out_at__isnull=True).exists()
    assert len([r for r in seats if isinstance(r, Redemption)]) == 5
    event.refresh_from_db()
    assert event.seats_taken == 5
    assert_sums_match_ledger(member)
    assert member.points_balance == 10_000 - 15 * 10


def test_fifty_parallel_spends_of_store_credit_never_overspend():
    member = _member_with(100)
    services.redeem_reward(
        member=member, reward=make_reward("store_credit", points_cost=100, amount_cents=1000)
    )
    orders = itertools.count()

    def spend():
        return services.spend_store_credit(
            member=member, cents=300, shop="online", order_external_id=str(next(orders))
        )

    results = _all_at_once(50, spend)
    assert len([r for r in results if isinstance(r, tuple)]) == 3
    member.refresh_from_db()
    assert member.credit_cents == 100 == selectors.credit_sum(member.pk)
