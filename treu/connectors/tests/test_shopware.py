"""Shopware 6 app events, mapped to the cent."""

from __future__ import annotations

import pytest

from treu.commerce.models import Order, OrderStatus
from treu.connectors.models import DeliveryStatus, InboundDelivery
from treu.connectors.tests.conftest import payload
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(connect):
    return connect("shopware")


def _event(name: str, event: str, event_id: str, **order_changes) -> dict:
    data = payload(name)
    data["data"]["event"] = event
    data["source"]["eventId"] = event_id
    data["data"]["payload"]["order"].update(order_changes)
    return data


def test_a_placed_order_is_taken_in_with_its_promotion(send, sw):
    send(sw, payload("shopware_order_placed"))
    order = Order.objects.get()
    assert (order.number, order.status) == ("10042", OrderStatus.PAID)
    assert (order.subtotal_cents, order.shipping_cents, order.discount_cents) == (6970, 490, 697)
    assert (order.total_cents, order.tax_cents, order.net_cents) == (6763, 657, 6106)
    espresso, filter_ = order.lines.all()
    assert (espresso.sku, espresso.unit_price_cents, espresso.quantity) == ("ESP-1000", 2490, 2)
    assert (espresso.tax_rate_bp, espresso.tax_cents) == (700, 326)
    assert filter_.tax_rate_bp == 1900
    lena = order.customer
    assert (lena.first_name, lena.email) == ("Lena", "lena.fischer@example.de")
    assert lena.addresses.get().city == "Freiburg im Breisgau"


def test_a_cancel_event_cancels_the_order(send, sw):
    send(sw, payload("shopware_order_placed"))
    cancelled = _event(
        "shopware_order_placed",
        "state_enter.order.state.cancelled",
        "e-2",
        updatedAt="2024-03-05T12:00:00.000+00:00",
        stateMachineState={"technicalName": "cancelled"},
    )
    send(sw, cancelled)
    assert Order.objects.get().status == OrderStatus.CANCELLED


def test_a_shipped_event_moves_the_status(send, sw):
    send(sw, payload("shopware_order_placed"))
    shipped = _event(
        "shopware_order_placed",
        "state_enter.order_delivery.state.shipped",
        "e-3",
        updatedAt="2024-03-06T08:00:00.000+00:00",
    )
    send(sw, shipped)
    assert Order.objects.get().status == OrderStatus.SHIPPED


def test_a_registered_customer_is_taken_in(send, sw):
    send(sw, payload("shopware_customer_register"))
    lena = Customer.objects.get()
    assert (lena.last_name, lena.phone) == ("Fischer", "0761 987654")
    assert lena.external_ids.get().external_id == "0190b7f4a3c27d1e8f5a6b4c3d2e1f0a"


def test_entity_written_events_carry_only_ids_and_are_ignored(send, sw):
    send(sw, payload("shopware_customer_written"))
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED
    assert delivery.body == ""
    assert not Customer.objects.exists()


def test_net_price_orders_are_refused_clearly(send, sw):
    data = payload("shopware_order_placed")
    data["data"]["payload"]["order"]["price"]["taxStatus"] = "net"
    send(sw, data)
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error
    assert not Order.objects.exists()


def test_amounts_are_exact_decimals_not_floats(send, sw):
    data = payload("shopware_order_placed")
    order = data["data"]["payload"]["order"]
    # 0.1 + 0.2 style sums: exact in Decimal, off by a hair in float.
    order["lineItems"][1].update(unitPrice=0.1, totalPrice=0.1)
    order["lineItems"][1]["price"]["calculatedTaxes"][0]["tax"] = 0.02
    order.update(amountTotal=47.83, amountNet=44.3)
    send(sw, data)
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PROCESSED, delivery.error
    assert Order.objects.get().total_cents == 4783
