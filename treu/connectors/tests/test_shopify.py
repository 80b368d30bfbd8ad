"""Shopify's documented payloads, mapped to the cent."""

from __future__ import annotations

import pytest

from treu.commerce.models import Order, OrderStatus, Return
from treu.connectors import services
from treu.connectors.mapping import NotYet
from treu.connectors.models import DeliveryStatus, InboundDelivery
from treu.connectors.tests.conftest import payload
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_conn(connect):
    return connect("shopify")


def _order(send, conn, data=None, topic="orders/create", delivery="o-1"):
    send(conn, data or payload("shopify_order"), topic=topic, delivery=delivery)
    return Order.objects.prefetch_related("lines").get()


def test_an_order_is_taken_in_to_the_cent(send, shop_conn):
    order = _order(send, shop_conn)
    assert order.number == "#1001"
    assert order.external_id == "820982911946154508"
    assert order.status == OrderStatus.PAID
    assert (order.subtotal_cents, order.shipping_cents, order.discount_cents) == (6273, 490, 0)
    assert (order.total_cents, order.tax_cents, order.net_cents) == (6763, 657, 6106)
    espresso, filter_ = order.lines.all()
    assert (espresso.sku, espresso.quantity, espresso.unit_price_cents) == ("ESP-1000", 2, 2490)
    assert (espresso.discount_cents, espresso.total_cents) == (498, 4482)
    assert (espresso.tax_rate_bp, espresso.tax_cents) == (700, 293)
    assert espresso.external_id == "866550311766439020"
    assert (filter_.tax_rate_bp, filter_.tax_cents, filter_.total_cents) == (1900, 286, 1791)
    assert order.placed_at.isoformat() == "2024-03-05T10:15:00+00:00"


def test_the_buyer_becomes_a_customer_with_address(send, shop_conn):
    order = _order(send, shop_conn)
    anna = Customer.objects.get()
    assert order.customer == anna
    assert (anna.first_name, anna.last_name, anna.email) == (
        "Anna",
        "Schmidt",
        "anna.schmidt@example.de",
    )
    assert anna.external_ids.get().external_id == "115310627314723954"
    address = anna.addresses.get()
    assert (address.street, address.postcode, address.city) == (
        "Lindenstraße 12",
        "20095",
        "Hamburg",
    )
    assert (anna.order_count, anna.total_spent_cents) == (1, 6763)


def test_an_update_moves_the_status_and_an_older_one_is_ignored(send, shop_conn):
    _order(send, shop_conn)
    shipped = payload("shopify_order")
    shipped.update(fulfillment_status="fulfilled", updated_at="2024-03-06T09:00:00+01:00")
    send(shop_conn, shipped, topic="orders/updated", delivery="o-2")
    assert Order.objects.get().status == OrderStatus.SHIPPED
    late = payload("shopify_order")
    late.update(financial_status="pending", updated_at="2024-03-05T11:20:00+01:00")
    send(shop_conn, late, topic="orders/updated", delivery="o-3")
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert "older version" in InboundDelivery.objects.get(delivery_id="o-3").result or (
        "ältere" in InboundDelivery.objects.get(delivery_id="o-3").result
    )


def test_an_update_arriving_before_the_create_simply_creates(send, shop_conn):
    order = _order(send, shop_conn, topic="orders/updated", delivery="u-1")
    assert order.total_cents == 6763
    send(shop_conn, payload("shopify_order"), topic="orders/create", delivery="c-1")
    assert Order.objects.count() == 1
    assert InboundDelivery.objects.get(delivery_id="c-1").status == DeliveryStatus.PROCESSED


def test_a_refund_is_recorded_against_the_shops_line(send, shop_conn):
    order = _order(send, shop_conn)
    send(shop_conn, payload("shopify_refund"), topic="refunds/create", delivery="r-1")
    record = Return.objects.get()
    assert (record.external_id, record.amount_cents, record.shipping_refund_cents) == (
        "929361462",
        2241,
        0,
    )
    line = record.lines.get()
    assert (line.order_line.sku, line.quantity, line.amount_cents) == ("ESP-1000", 1, 2241)
    order.refresh_from_db()
    assert order.refunded_cents == 2241
    # The same refund again, inside an orders/updated: recorded once.
    updated = payload("shopify_order")
    updated.update(refunds=[payload("shopify_refund")], updated_at="2024-03-09T14:02:12+01:00")
    send(shop_conn, updated, topic="orders/updated", delivery="o-2")
    assert Return.objects.count() == 1


def test_a_refund_with_shipping_money_back(send, shop_conn):
    _order(send, shop_conn)
    refund = payload("shopify_refund")
    refund["transactions"][0]["amount"] = "27.31"
    refund["refund_shipping_lines"] = [
        {"id": 1, "subtotal_amount_set": {"shop_money": {"amount": "4.90", "currency_code": "EUR"}}}
    ]
    send(shop_conn, refund, topic="refunds/create", delivery="r-1")
    record = Return.objects.get()
    assert (record.shipping_refund_cents, record.other_refund_cents) == (490, 0)


def test_money_back_beyond_items_and_shipping_is_kept_apart(send, shop_conn):
    _order(send, shop_conn)
    refund = payload("shopify_refund")
    refund["transactions"][0]["amount"] = "27.31"  # 4.90 more than the items, no shipping named
    send(shop_conn, refund, topic="refunds/create", delivery="r-1")
    record = Return.objects.get()
    assert (record.shipping_refund_cents, record.other_refund_cents) == (0, 490)


def test_a_refund_before_its_order_fails_and_succeeds_on_retry(send, shop_conn):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    send(shop_conn, payload("shopify_refund"), topic="refunds/create", delivery="r-1")
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error
    assert not Return.objects.exists()
    # The job raised, so huey scheduled a retry with a delay.
    assert len(HUEY.scheduled()) == 1
    with pytest.raises(NotYet):
        services.process_delivery(delivery_id=delivery.pk)
    _order(send, shop_conn)
    services.process_delivery(delivery_id=delivery.pk)  # what huey's retry runs
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.error == ""
    assert delivery.attempts == 3
    assert Return.objects.get().amount_cents == 2241
    HUEY.flush()


def test_a_cancelled_order_is_cancelled(send, shop_conn):
    _order(send, shop_conn)
    cancelled = payload("shopify_order")
    cancelled.update(
        cancelled_at="2024-03-05T12:00:00+01:00",
        cancel_reason="customer",
        financial_status="voided",
        updated_at="2024-03-05T12:00:00+01:00",
    )
    send(shop_conn, cancelled, topic="orders/cancelled", delivery="x-1")
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at.isoformat() == "2024-03-05T11:00:00+00:00"
    assert order.customer.order_count == 0


def test_a_cancelled_and_refunded_order_keeps_its_refund(send, shop_conn):
    _order(send, shop_conn)
    cancelled = payload("shopify_order")
    cancelled.update(
        cancelled_at="2024-03-09T14:02:11+01:00",
        refunds=[payload("shopify_refund")],
        financial_status="partially_refunded",
        updated_at="2024-03-09T14:02:12+01:00",
    )
    send(shop_conn, cancelled, topic="orders/cancelled", delivery="x-1")
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    assert order.refunded_cents == 2241


def test_totals_that_do_not_add_up_are_refused_and_nothing_is_written(send, shop_conn):
    broken = payload("shopify_order")
    broken["total_price"] = "70.00"
    send(shop_conn, broken, topic="orders/create", delivery="b-1")
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "6763" in delivery.error and "7000" in delivery.error
    assert not Order.objects.exists()
    assert not Customer.objects.exists()  # the buyer was rolled back with the order


def test_prices_without_vat_are_refused_clearly(send, shop_conn):
    net = payload("shopify_order")
    net["taxes_included"] = False
    send(shop_conn, net, topic="orders/create", delivery="n-1")
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "taxes_included" in delivery.error


def test_a_customer_is_created_and_updated(send, shop_conn):
    send(shop_conn, payload("shopify_customer"), topic="customers/create", delivery="k-1")
    changed = payload("shopify_customer")
    changed.update(last_name="Schmidt-Berger", email="ANNA.SB@example.de")
    send(shop_conn, changed, topic="customers/update", delivery="k-2")
    anna = Customer.objects.get()
    assert (anna.last_name, anna.email, anna.phone) == (
        "Schmidt-Berger",
        "anna.sb@example.de",
        "+4915112345678",
    )
    assert anna.addresses.count() == 1
    assert InboundDelivery.objects.filter(status=DeliveryStatus.PROCESSED).count() == 2
