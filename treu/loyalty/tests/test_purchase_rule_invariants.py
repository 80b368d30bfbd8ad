"""Hypothesis property with random earning rules: the ledger stays true, whatever happens.

Random rules (each kind, scoped or not, with minimums and limits), then random orders,
returns, cancellations, redemptions and releases: after every step balance and pending
equal the ledger sums and are never negative; at the end a cancelled order, a fully
returned line and a fully returned order hold no points (what was spent is recorded as
unrecovered), and a limited rule is held by at most one live order per period.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce import services as commerce
from treu.commerce.models import OrderStatus
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import EntryKind, PointsEntry, PurchaseRuleUse
from treu.loyalty.tests.conftest import start_program
from treu.loyalty.tests.rules import ESPRESSO, FILTER, MUG, buy, catalogue

SKUS = [ESPRESSO, FILTER, MUG]
rule = st.tuples(
    st.sampled_from(["per_euro", "per_item", "per_order", "multiplier"]),
    st.integers(1, 30),
    st.sampled_from([(), (ESPRESSO,), (MUG, FILTER)]),
    st.sampled_from([0, 2000, 5000]),
    st.sampled_from(["unlimited", "once", "per_year"]),
)
step = st.one_of(
    st.tuples(
        st.just("order"),
        st.lists(
            st.tuples(st.sampled_from(SKUS), st.integers(1, 3), st.integers(0, 4000)),
            min_size=1,
            max_size=3,
        ),
        st.integers(0, 30),  # placed this many days ago
        st.sampled_from([0, 500]),  # order discount
    ),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("redeem"), st.integers(1, 300)),
    st.tuples(st.just("release"), st.integers(0, 40)),
)


class TestRuleLedgerInvariants(TestCase):
    @given(st.lists(rule, max_size=3), st.lists(step, min_size=1, max_size=15))
    # Always among the examples: spent rule points taken back (unrecovered), a use given back
    # below the minimum and earned again by the next order.
    @example(
        [("per_order", 30, (), 2000, "once"), ("multiplier", 10, (ESPRESSO,), 0, "unlimited")],
        [("order", [(ESPRESSO, 2, 1500)], 20, 0), ("redeem", 100), ("cancel", 0),
         ("order", [(ESPRESSO, 1, 1500), (MUG, 1, 1000)], 2, 0), ("return", 1, 0, 1),
         ("order", [(FILTER, 3, 1000)], 1, 500)],
    )  # fmt: skip
    @settings(max_examples=60, deadline=None)
    def test_rules_keep_the_ledger_true_and_returned_goods_earn_nothing(self, rules, steps):
        note(f"rules={rules!r} steps={steps!r}")
        start_program(points_per_euro="1.5", rounding="half_up")
        catalogue()
        for n, (kind, value, skus, min_cents, limit) in enumerate(rules):
            values = {
                "per_euro": {"points_per_euro": value},
                "multiplier": {"multiplier": Decimal(10 + value) / 10},
            }.get(kind, {"points": value})
            services.save_purchase_rule(
                name=f"Regel {n}", kind=kind, starts_on=date(2020, 1, 1), skus=list(skus),
                min_order_cents=min_cents, limit=limit, **values,
            )  # fmt: skip
        customer = CustomerFactory()
        now = timezone.now()
        member = services.join_program(customer=customer, now=now - timedelta(days=60))
        orders = []
        for action, *args in steps:
            with (
                self.captureOnCommitCallbacks(execute=True),
                contextlib.suppress(commerce.OrderRejected, services.LoyaltyError),
            ):
                if action == "order":
                    lines, days_ago, discount = args
                    goods = sum(q * p for _sku, q, p in lines)
                    orders.append(
                        buy(customer, *lines, placed_at=now - timedelta(days=days_ago),
                            discount_cents=min(discount, goods))
                    )  # fmt: skip
                elif action == "return" and orders:
                    which, line_index, quantity = args
                    order = orders[which % len(orders)]
                    lines = list(order.lines.order_by("id"))
                    target = lines[line_index % len(lines)]
                    commerce.record_return(
                        order,
                        lines=[
                            commerce.ReturnLineInput(order_line_id=target.pk, quantity=quantity)
                        ],
                    )
                elif action == "cancel" and orders:
                    commerce.cancel_order(orders[args[0] % len(orders)])
                elif action == "redeem":
                    services.redeem_points(member=member, points=args[0], reason="Prämie")
                elif action == "release":
                    services.release_pending_points(now=now + timedelta(days=args[0]))
            member.refresh_from_db()
            available, pending = selectors.ledger_sums(member.pk)
            self.assertEqual((member.points_balance, member.pending_points), (available, pending))
            self.assertGreaterEqual(member.points_balance, 0)
            self.assertGreaterEqual(member.pending_points, 0)
        self.assert_no_points_for_returned_goods(member, orders)
        live = Counter(
            (use.rule_id, use.year if use.rule.limit == "per_year" else 0)
            for use in PurchaseRuleUse.objects.filter(voided_at__isnull=True).select_related("rule")
        )
        self.assertTrue(all(n == 1 for n in live.values()), live)

    def assert_no_points_for_returned_goods(self, member, orders) -> None:
        held: dict[tuple, int] = defaultdict(int)  # (order, line or None) -> points kept
        for e in PointsEntry.objects.filter(member=member, order__isnull=False):
            kept = e.points - (e.unrecovered if e.kind == EntryKind.REVERSE else 0)
            held[(e.order_id, e.order_line_id)] += kept
        for order in orders:
            order.refresh_from_db()
            lines = list(order.lines.all())
            returned = {
                li.pk: sum(r.quantity for r in li.return_lines.all()) >= li.quantity for li in lines
            }
            if order.status == OrderStatus.CANCELLED:
                self.assertEqual(sum(v for k, v in held.items() if k[0] == order.pk), 0)
                continue
            for line_id, back in returned.items():
                if back:
                    self.assertEqual(held[(order.pk, line_id)], 0)
            if all(returned.values()):
                self.assertEqual(held[(order.pk, None)], 0)
