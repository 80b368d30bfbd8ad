"""Hypothesis properties for tiers and expiry over random sequences of days.

Orders, returns, cancellations, redemptions, time passing, recomputes and expiry runs, on a
clock that starts three years back (loyalty's services are driven with that clock, as the
subscribers and jobs would drive them). After every recompute each member is in the
highest tier they qualify for, or higher only while the higher tier is still held (a
downgrade waits for the period end), and nobody went down before it or unannounced;
after every step the balance is the ledger sum and never negative, however much expired.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce import services as commerce
from treu.commerce.tests.factories import ShopFactory
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services, tier_selectors
from treu.loyalty.models import EntryKind, MemberTier, ProgramSettings

step = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 1), st.integers(100, 40_000), st.integers(1, 3)),
    st.tuples(st.just("return"), st.integers(0, 30)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(1, 300)),
    st.tuples(st.just("wait"), st.integers(1, 200)),
    st.tuples(st.just("recompute")),
    st.tuples(st.just("expire")),
)


class TestTierAndExpiryInvariants(TestCase):
    @given(
        st.lists(step, min_size=1, max_size=25),
        st.sampled_from(["rolling", "calendar"]),
        st.integers(1, 60),
        st.integers(1, 24),
    )
    # Always among the examples: a Gold member whose calendar year ended (held through the
    # next), and a cancellation that takes a fresh Gold member's qualification away.
    @example(
        [("order", 0, 40_000, 3), ("wait", 200), ("wait", 200), ("recompute",)], "calendar", 30, 12
    )
    @example([("order", 1, 30_000, 3), ("cancel", 0), ("recompute",)], "rolling", 30, 12)
    @settings(max_examples=60, deadline=None)
    def test_tiers_are_the_highest_qualifying_unless_held_and_expiry_keeps_the_ledger_true(
        self, steps, period, notice_days, months
    ):
        real_now = timezone.now()
        clock = real_now - timedelta(days=3 * 365)
        services.update_program_settings(point_name="Bohnen", points_per_euro="1")
        ProgramSettings.objects.update(created_at=clock - timedelta(days=1))
        services.update_tier_settings(basis="spend", period=period, notice_days=notice_days)
        tiers = [
            services.save_tier(name="Bronze", rank=1, threshold=0),
            services.save_tier(name="Silber", rank=2, threshold=20_000),
            services.save_tier(name="Gold", rank=3, threshold=60_000),
        ]
        services.update_expiry_settings(mode="lifetime", months=months, now=clock)
        shop = ShopFactory()
        User.objects.create_user("staff")
        members = [services.join_program(customer=CustomerFactory(), now=clock) for _ in range(2)]
        orders = []
        for n, (action, *args) in enumerate(steps):
            with contextlib.suppress(commerce.OrderRejected, services.LoyaltyError):
                if action == "order":
                    member = members[args[0]]
                    inputs = [
                        commerce.LineInput(
                            title="Bohnen", quantity=args[2], unit_price_cents=args[1]
                        )
                    ]
                    order = commerce.ingest_order(
                        commerce.OrderInput(
                            shop=shop,
                            external_id=f"O{n}",
                            customer_id=member.customer_id,
                            placed_at=clock,
                            lines=inputs,
                            total_cents=inputs[0].total_cents,
                        )
                    ).order
                    orders.append(order)
                    services.award_points_for_orders([order.pk], now=clock)
                    services.recompute_tiers(member_ids=[member.pk], now=clock)
                elif action == "return" and orders:
                    order = orders[args[0] % len(orders)]
                    line = order.lines.get()
                    ret = commerce.record_return(
                        order,
                        lines=[commerce.ReturnLineInput(order_line_id=line.pk, quantity=1)],
                        refunded_at=clock,
                    )
                    services.settle_order_points(order.pk, cause=f"return:{ret.pk}", now=clock)
                elif action == "cancel" and orders:
                    order = orders[args[0] % len(orders)]
                    commerce.cancel_order(order, when=clock)
                    services.settle_order_points(order.pk, cause=f"cancel:{order.pk}", now=clock)
                elif action == "redeem":
                    services.redeem_points(
                        member=members[args[0]], points=args[1], reason="Prämie", now=clock
                    )
                elif action == "wait":
                    clock = min(clock + timedelta(days=args[0]), real_now)
                    services.release_pending_points(now=clock)
                elif action == "recompute":
                    before = self.states(members)
                    services.recompute_tiers(now=clock)
                    self.assert_tiers_highest_qualifying_unless_held(members, tiers, clock)
                    self.assert_no_one_went_down_before_the_period_end(before, members, clock)
                elif action == "expire":
                    services.expire_points(now=clock)
            for member in members:
                self.assert_ledger_true(member)

    def assert_tiers_highest_qualifying_unless_held(self, members, tiers, now) -> None:
        config = tier_selectors.tier_settings()
        values = tier_selectors.qualifying_values(
            config, now=now, members={m.customer_id: m.pk for m in members}
        )
        for member in members:
            qualified = tier_selectors.qualified_tier(tiers, values.get(member.pk, 0))
            state = MemberTier.objects.select_related("tier").get(member=member)
            self.assertIsNotNone(state.tier)  # Bronze needs nothing
            self.assertGreaterEqual(state.tier.rank, qualified.rank)
            if state.tier.rank > qualified.rank:
                self.assertLess(now, state.held_until)

    def states(self, members) -> dict[int, tuple]:
        rows = MemberTier.objects.filter(member__in=members).select_related("tier")
        return {
            s.member_id: (s.tier.rank if s.tier else 0, s.held_until, s.notice_for) for s in rows
        }

    def assert_no_one_went_down_before_the_period_end(self, before, members, now) -> None:
        after = self.states(members)
        for member_id, (rank, held_until, notice_for) in before.items():
            if after[member_id][0] < rank:
                self.assertGreaterEqual(now, held_until)
                self.assertEqual(notice_for, held_until)  # announced before

    def assert_ledger_true(self, member) -> None:
        member.refresh_from_db()
        available, pending = selectors.ledger_sums(member.pk)
        self.assertEqual((member.points_balance, member.pending_points), (available, pending))
        self.assertGreaterEqual(available, 0)
        expired = member.entries.filter(kind=EntryKind.EXPIRE)
        self.assertTrue(all(e.points < 0 for e in expired))
