"""Hypothesis properties: money always reconciles, whatever sequence of orders and returns."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.commerce import services
from treu.commerce.models import Order, OrderStatus, ReturnLine
from treu.commerce.tests.factories import ShopFactory
from treu.customers.tests.factories import CustomerFactory

line = st.tuples(
    st.integers(min_value=1, max_value=5),  # quantity
    st.integers(min_value=0, max_value=50_000),  # unit price
    st.sampled_from([0, 700, 1900]),
)
order = st.fixed_dictionaries(
    {
        "lines": st.lists(line, min_size=1, max_size=4),
        "shipping": st.sampled_from([0, 490, 690]),
        "discount_share": st.integers(min_value=0, max_value=100),
        "cancel": st.booleans(),
        "returns": st.lists(
            st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=5)),
            max_size=3,
        ),
    }
)


class TestMoneyInvariants(TestCase):
    @given(st.lists(order, min_size=1, max_size=5))
    @settings(max_examples=30, deadline=None)
    def test_orders_and_returns_always_reconcile(self, orders):
        shop = ShopFactory()
        customer = CustomerFactory()
        now = timezone.now()
        for n, spec in enumerate(orders):
            lines = [
                services.LineInput(title=f"P{i}", quantity=q, unit_price_cents=p, tax_rate_bp=t)
                for i, (q, p, t) in enumerate(spec["lines"])
            ]
            subtotal = sum(li.total_cents for li in lines)
            discount = subtotal * spec["discount_share"] // 100
            created = services.ingest_order(
                services.OrderInput(
                    shop=shop,
                    external_id=f"{n}",
                    customer_id=customer.pk,
                    placed_at=now - timedelta(days=n),
                    lines=lines,
                    shipping_cents=spec["shipping"],
                    discount_cents=discount,
                    total_cents=subtotal + spec["shipping"] - discount,
                )
            ).order
            order_lines = list(created.lines.all())
            for index, quantity in spec["returns"]:
                target = order_lines[index % len(order_lines)]
                with contextlib.suppress(services.OrderRejected):
                    services.record_return(
                        created,
                        lines=[
                            services.ReturnLineInput(order_line_id=target.pk, quantity=quantity)
                        ],
                    )
            if spec["cancel"]:
                with contextlib.suppress(services.OrderRejected):
                    services.cancel_order(created)

        for o in Order.objects.prefetch_related("lines"):
            assert o.total_cents == o.subtotal_cents + o.shipping_cents - o.discount_cents
            assert o.subtotal_cents == sum(li.total_cents for li in o.lines.all())
            assert 0 <= o.tax_cents <= o.total_cents and o.net_cents == o.total_cents - o.tax_cents
            assert 0 <= o.refunded_cents <= o.total_cents
            refunded = o.returns.aggregate(s=Sum("amount_cents"))["s"] or 0
            assert refunded == o.refunded_cents
            for li in o.lines.all():
                returned = (
                    ReturnLine.objects.filter(order_line=li).aggregate(q=Sum("quantity"))["q"] or 0
                )
                assert returned <= li.quantity
        customer.refresh_from_db()
        kept = Order.objects.filter(customer=customer).exclude(status=OrderStatus.CANCELLED)
        assert customer.order_count == kept.count()
        assert customer.total_spent_cents == sum(o.total_cents - o.refunded_cents for o in kept)
