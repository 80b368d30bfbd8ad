"""Hypothesis properties over random redemptions, checkouts, credit spends and cancellations.

After every step: the points balance is the ledger's sum and never negative, store credit
is its ledger's sum and never negative, and every coupon has at most one use that was not
given back (and is marked used exactly when it has one).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import Coupon, CouponUse, Member
from treu.loyalty.tests.conftest import make_reward, start_program

KINDS = ["fixed_amount", "percent", "free_shipping", "store_credit", "experience", "perk"]
step = st.one_of(
    st.tuples(st.just("redeem"), st.integers(0, len(KINDS) - 1), st.integers(0, 1)),
    st.tuples(st.just("use"), st.integers(0, 30), st.integers(0, 5), st.integers(0, 20_000)),
    st.tuples(st.just("spend"), st.integers(0, 1), st.integers(1, 3_000), st.integers(0, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("adjust"), st.integers(-200, 300), st.integers(0, 1)),
)


class TestRewardInvariants(TestCase):
    @given(st.lists(step, min_size=1, max_size=25))
    # Always among the examples: a coupon used, given back, used again and refused a third
    # time; credit spent past its balance; an order cancelled twice.
    @example(
        [
            ("redeem", 0, 0),
            ("use", 0, 1, 5000),
            ("cancel", 1),
            ("use", 0, 2, 5000),
            ("use", 0, 3, 5000),
            ("redeem", 3, 0),
            ("spend", 0, 700, 1),
            ("spend", 0, 700, 2),
            ("cancel", 1),
            ("cancel", 1),
        ]
    )
    @settings(max_examples=60, deadline=None)
    def test_points_credit_and_coupons_stay_true(self, steps):
        start_program()
        staff = User.objects.create_user("staff")
        now = timezone.now()
        members = [
            services.join_program(customer=CustomerFactory(), now=now - timedelta(days=1))
            for _ in range(2)
        ]
        for member in members:
            services.adjust_points(member=member, points=500, reason="Start", staff_user=staff)
        rewards = [
            make_reward(kind, points_cost=40 + 30 * i, seats=3) if kind == "experience"
            else make_reward(kind, points_cost=40 + 30 * i)
            for i, kind in enumerate(KINDS)
        ]  # fmt: skip
        for action, *args in steps:
            with contextlib.suppress(services.LoyaltyError):
                if action == "redeem":
                    services.redeem_reward(member=members[args[1]], reward=rewards[args[0]])
                elif action == "use":
                    coupons = list(Coupon.objects.order_by("pk"))
                    if coupons:
                        services.consume_coupon(
                            code=coupons[args[0] % len(coupons)].code,
                            basket_cents=args[2],
                            shop="online",
                            order_external_id=str(args[1]),
                        )
                elif action == "spend":
                    services.spend_store_credit(
                        member=members[args[0]],
                        cents=args[1],
                        shop="online",
                        order_external_id=str(args[2]),
                    )
                elif action == "cancel":
                    services.release_order_rewards(shop="online", order_external_id=str(args[0]))
                elif action == "adjust" and args[0]:
                    services.adjust_points(
                        member=members[args[1]], points=args[0], reason="Test", staff_user=staff
                    )
            for member in members:
                self.assert_ledgers_match(member)
            self.assert_each_coupon_used_at_most_once()

    def assert_ledgers_match(self, member: Member) -> None:
        member.refresh_from_db()
        available, pending = selectors.ledger_sums(member.pk)
        self.assertEqual((member.points_balance, member.pending_points), (available, pending))
        self.assertGreaterEqual(member.points_balance, 0)
        self.assertEqual(member.credit_cents, selectors.credit_sum(member.pk))
        self.assertGreaterEqual(member.credit_cents, 0)

    def assert_each_coupon_used_at_most_once(self) -> None:
        coupons = Coupon.objects.annotate(
            open_uses=Count("uses", filter=Q(uses__released_at__isnull=True))
        )
        for coupon in coupons:
            self.assertLessEqual(coupon.open_uses, 1)
            self.assertEqual(coupon.used_at is not None, coupon.open_uses == 1)
        for use in CouponUse.objects.select_related("coupon"):
            self.assertLessEqual(use.discount_cents, use.basket_cents)
