"""WooCommerce's REST order and customer JSON, mapped to the cent."""

from __future__ import annotations

import pytest

from treu.commerce.models import Order, OrderStatus, Return
from treu.connectors.models import DeliveryStatus, InboundDelivery
from treu.connectors.tests.conftest import payload
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def woo(connect):
    return connect("woocommerce")


def test_an_order_is_taken_in_with_gross_lines_and_vat(send, woo):
    send(woo, payload("woocommerce_order"), topic="order.created", delivery="w-1")
    order = Order.objects.get()
    assert (order.number, order.external_id, order.status) == ("727", "727", OrderStatus.PAID)
    assert (order.subtotal_cents, order.shipping_cents, order.discount_cents) == (6970, 490, 0)
    assert (order.total_cents, order.tax_cents) == (7460, 722)
    espresso, filter_ = order.lines.all()
    assert (espresso.quantity, espresso.unit_price_cents, espresso.total_cents) == (2, 2490, 4980)
    assert (espresso.tax_rate_bp, espresso.tax_cents, espresso.external_id) == (700, 326, "315")
    assert (filter_.tax_rate_bp, filter_.tax_cents) == (1900, 318)
    assert order.placed_at.isoformat() == "2024-03-05T10:15:00+00:00"
    assert order.paid_at is not None
    jonas = order.customer
    assert (jonas.email, jonas.last_name) == ("jonas.weber@example.de", "Weber")
    assert jonas.external_ids.get().external_id == "26"
    assert jonas.addresses.get().city == "Leipzig"


def test_a_coupon_and_per_line_rounding_reconcile_exactly(send, woo):
    data = payload("woocommerce_order")
    # 10 % coupon: net line totals after discount, VAT per line rounded by WooCommerce.
    espresso, filter_ = data["line_items"]
    espresso.update(total="41.89", total_tax="2.93")
    filter_.update(total="15.05", total_tax="2.86")
    data.update(discount_total="6.32", discount_tax="0.65", total="67.63", total_tax="6.57")
    send(woo, data, topic="order.created", delivery="w-1")
    order = Order.objects.get()
    assert order.total_cents == 6763
    lines = list(order.lines.all())
    assert [line.total_cents for line in lines] == [4482, 1791]
    assert [line.discount_cents for line in lines] == [498, 199]


def test_statuses_are_mapped(send, woo):
    for n, (woo_status, treu_status) in enumerate(
        [("on-hold", "pending"), ("completed", "shipped"), ("cancelled", "cancelled")]
    ):
        data = payload("woocommerce_order")
        data.update(status=woo_status, date_modified_gmt=f"2024-03-0{6 + n}T10:00:00")
        send(woo, data, topic="order.updated", delivery=f"s-{n}")
        assert Order.objects.get().status == treu_status


def test_refunds_in_the_order_are_recorded_once(send, woo):
    data = payload("woocommerce_order")
    data.update(
        status="refunded", refunds=[{"id": 731, "reason": "Bohnen zu dunkel", "total": "-10.00"}]
    )
    send(woo, data, topic="order.updated", delivery="r-1")
    send(
        woo,
        data | {"date_modified_gmt": "2024-03-08T10:00:00"},
        topic="order.updated",
        delivery="r-2",
    )
    record = Return.objects.get()
    assert (record.external_id, record.amount_cents, record.comment) == (
        "731",
        1000,
        "Bohnen zu dunkel",
    )
    assert Order.objects.get().refunded_cents == 1000


def test_a_deleted_order_is_cancelled(send, woo):
    send(woo, payload("woocommerce_order"), topic="order.created", delivery="w-1")
    send(woo, {"id": 727}, topic="order.deleted", delivery="w-2")
    assert Order.objects.get().status == OrderStatus.CANCELLED
    send(woo, {"id": 999}, topic="order.deleted", delivery="w-3")
    assert InboundDelivery.objects.get(delivery_id="w-3").status == DeliveryStatus.IGNORED


def test_a_customer_is_created_with_address(send, woo):
    send(woo, payload("woocommerce_customer"), topic="customer.created", delivery="c-1")
    jonas = Customer.objects.get()
    assert (jonas.first_name, jonas.phone) == ("Jonas", "0341 1234567")
    assert jonas.addresses.get().street == "Schillerstraße 5"
    # The order of that customer finds them by their shop id.
    send(woo, payload("woocommerce_order"), topic="order.created", delivery="w-1")
    assert Customer.objects.count() == 1
    assert Order.objects.get().customer == jonas


def test_a_guest_order_is_matched_by_email(send, woo, anna):
    data = payload("woocommerce_order")
    data["customer_id"] = 0
    data["billing"]["email"] = "ANNA.MUELLER@example.de"
    send(woo, data, topic="order.created", delivery="g-1")
    assert Order.objects.get().customer == anna


def test_an_unknown_currency_is_refused_with_the_reason(send, woo):
    data = payload("woocommerce_order") | {"currency": "CHF"}
    send(woo, data, topic="order.created", delivery="chf")
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "CHF" in delivery.error
    assert not Order.objects.exists()
