"""Hypothesis property: whatever orders, returns, cancellations and till stamps happen,
stamps on the card + stamps turned into vouchers = qualifying units counted, never negative.

"Counted" is computed here independently of the service: every qualifying unit of a
member's orders placed while the card ran, plus the till's stamps, less the units that
came back or were cancelled as far as the current card still held stamps (the rest is
on vouchers already issued, recorded as not recovered).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce import services as commerce
from treu.commerce.models import OrderStatus
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import StampEntry, StampEntryKind, StampVoucher
from treu.loyalty.tests.conftest import start_program
from treu.loyalty.tests.stamps import (
    CAKE,
    COFFEE,
    assert_stamps_reconcile,
    card_of,
    coffee_card,
    give_back,
    order_with,
)

step = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 12), st.integers(0, 3)),  # coffees, cakes
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 12)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("store"), st.integers(1, 15)),
)


class TestStampInvariants(TestCase):
    @given(st.lists(step, min_size=1, max_size=15), st.integers(1, 10))
    @example([("order", 12, 0), ("cancel", 0), ("store", 3)], 10)
    @example([("order", 5, 1), ("return", 0, 2), ("return", 0, 3), ("order", 9, 0)], 4)
    @settings(max_examples=60, deadline=None)
    def test_stamps_on_cards_and_vouchers_are_the_units_counted(self, steps, needed):
        start_program()
        card_type = coffee_card(stamps_needed=needed)
        customer = CustomerFactory()
        member = services.join_program(customer=customer, now=timezone.now() - timedelta(days=9))
        staff = User.objects.create_user("kasse")
        orders = []
        bought = 0  # qualifying units bought and stamped at the till
        for action, *args in steps:
            with (
                self.captureOnCommitCallbacks(execute=True),
                contextlib.suppress(commerce.OrderRejected, services.LoyaltyError),
            ):
                if action == "order":
                    coffees, cakes = args
                    lines = [(sku, q) for sku, q in ((COFFEE, coffees), (CAKE, cakes)) if q]
                    if not lines:
                        continue
                    orders.append(order_with(customer, *lines))
                    bought += coffees
                elif action == "return" and orders:
                    order = orders[args[0] % len(orders)]
                    if order.lines.filter(sku=COFFEE).exists():
                        give_back(order, COFFEE, args[1])  # refused beyond what was bought
                elif action == "cancel" and orders:
                    commerce.cancel_order(orders[args[0] % len(orders)])
                elif action == "store":
                    services.add_stamps(
                        member=member, card_type=card_type, count=args[0], staff_user=staff
                    )
                    bought += args[0]
            assert_stamps_reconcile(member, card_type)
        self.assert_units_counted(member, card_type, orders, bought)

    def assert_units_counted(self, member, card_type, orders, bought) -> None:
        back = 0  # units that came back or were cancelled
        for order in orders:
            order.refresh_from_db()
            line = order.lines.filter(sku=COFFEE).first()
            if line is None:
                continue
            if order.status == OrderStatus.CANCELLED:
                back += line.quantity
            else:
                back += line.return_lines.aggregate(s=Sum("quantity"))["s"] or 0
        reversals = StampEntry.objects.filter(member=member, kind=StampEntryKind.REVERSE)
        taken = reversals.aggregate(t=Sum("stamps"), u=Sum("unrecovered"))
        taken_back, unrecovered = -(taken["t"] or 0), taken["u"] or 0
        # Every unit that came back was taken back, from the card or recorded as on a voucher.
        self.assertEqual(taken_back + unrecovered, back)
        card = card_of(member, card_type)
        on_card = card.stamps if card else 0
        on_vouchers = (
            StampVoucher.objects.filter(member=member).aggregate(s=Sum("stamps"))["s"] or 0
        )
        self.assertGreaterEqual(on_card, 0)
        self.assertEqual(on_card + on_vouchers, bought - taken_back)
        self.assertEqual(on_vouchers, needed_times(card, card_type))


def needed_times(card, card_type) -> int:
    """The size never changes in this test: each voucher took exactly one full card."""
    return (card.cards_filled if card else 0) * card_type.stamps_needed
