from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from treu.commerce import services
from treu.commerce.models import Order, OrderLine, OrderStatus, Return
from treu.commerce.services import LineInput, OrderInput, OrderRejected, ReturnLineInput
from treu.commerce.tests.factories import ProductFactory, make_order
from treu.core.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_input(shop, anna):
    return OrderInput(
        shop=shop,
        external_id="5001",
        number="#5001",
        customer_id=anna.pk,
        placed_at=timezone.now() - timedelta(hours=2),
        lines=[
            LineInput(
                title="Espresso Tonino 1 kg",
                sku="ESP-1000",
                quantity=2,
                unit_price_cents=2490,
                tax_rate_bp=700,
            ),
            LineInput(
                title="Handmühle",
                sku="MILL-1",
                quantity=1,
                unit_price_cents=5900,
                discount_cents=500,
            ),
        ],
        shipping_cents=490,
        discount_cents=1000,
        total_cents=2 * 2490 + 5400 + 490 - 1000,
    )


def test_it_ingests_an_order_that_reconciles(order_input, anna):
    ProductFactory(sku="ESP-1000")
    result = services.ingest_order(order_input)
    order = result.order
    assert result.created and result.changed
    assert order.subtotal_cents == 10380
    assert order.total_cents == order.subtotal_cents + order.shipping_cents - order.discount_cents
    assert order.net_cents + order.tax_cents == order.total_cents
    assert order.lines.get(sku="ESP-1000").product is not None
    assert order.lines.get(sku="MILL-1").product is None
    event = DomainEvent.objects.get(kind="order.ingested")
    assert event.payload["item_count"] == 3 and event.occurred_at == order.placed_at
    anna.refresh_from_db()
    assert (anna.order_count, anna.total_spent_cents) == (1, order.total_cents)
    assert anna.first_order_at == anna.last_order_at == order.placed_at


def test_vat_is_split_between_rates_and_reduced_by_the_order_discount(order_input):
    order = services.ingest_order(order_input).order
    food_vat = round(4980 * 700 / 10700)  # 326
    goods_vat = round(5400 * 1900 / 11900)  # 862
    line_vat = food_vat + goods_vat
    expected = line_vat - round(line_vat * 1000 / 10380) + round(490 * 1900 / 11900)
    assert order.tax_cents == expected


def test_replaying_the_same_order_changes_nothing(order_input):
    services.ingest_order(order_input)
    again = services.ingest_order(order_input)
    assert not again.created and not again.changed
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2
    assert DomainEvent.objects.filter(kind__startswith="order.").count() == 1


def test_an_update_replaces_lines_and_status(order_input):
    services.ingest_order(order_input)
    updated = replace(
        order_input,
        status=OrderStatus.SHIPPED,
        lines=order_input.lines[:1],
        total_cents=4980 + 490 - 1000,
    )
    result = services.ingest_order(updated)
    assert result.changed and not result.created
    assert result.order.status == OrderStatus.SHIPPED
    assert result.order.lines.count() == 1
    assert DomainEvent.objects.filter(kind="order.updated").count() == 1


def test_a_cancellation_by_update_is_published_as_such(order_input, anna):
    services.ingest_order(order_input)
    services.ingest_order(replace(order_input, status=OrderStatus.CANCELLED))
    assert DomainEvent.objects.filter(kind="order.cancelled").count() == 1
    anna.refresh_from_db()
    assert (anna.order_count, anna.total_spent_cents) == (0, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_cents": 1}, "total_cents"),
        ({"currency": "USD"}, "currency"),
        ({"status": "lost"}, "status"),
        ({"lines": []}, "lines"),
        ({"external_id": " "}, "external_id"),
        ({"shipping_cents": -1}, "shipping_cents"),
        ({"tax_cents": 10**9}, "tax_cents"),
    ],
)
def test_it_refuses_orders_that_do_not_add_up_and_writes_nothing(order_input, change, field):
    with pytest.raises(OrderRejected) as excinfo:
        services.ingest_order(replace(order_input, **change))
    assert field in excinfo.value.message_dict
    assert not Order.objects.exists() and not DomainEvent.objects.exists()


def test_it_refuses_negative_quantities_and_oversized_discounts(order_input):
    bad_lines = [
        LineInput(title="A", quantity=-1, unit_price_cents=100),
        LineInput(title="B", quantity=1, unit_price_cents=100, discount_cents=200),
    ]
    with pytest.raises(OrderRejected) as excinfo:
        services.ingest_order(replace(order_input, lines=bad_lines, total_cents=0))
    assert {"lines.1", "lines.2"} <= set(excinfo.value.message_dict)


def test_it_refuses_orders_from_the_future_and_without_time_zone(order_input):
    with pytest.raises(OrderRejected):
        services.ingest_order(replace(order_input, placed_at=timezone.now() + timedelta(days=2)))
    with pytest.raises(OrderRejected):
        services.ingest_order(replace(order_input, placed_at=timezone.now().replace(tzinfo=None)))


def test_the_database_refuses_totals_that_do_not_reconcile(shop):
    base = dict(shop=shop, number="X", placed_at=timezone.now(), subtotal_cents=1000, tax_cents=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(external_id="a", total_cents=999, net_cents=999, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(external_id="b", total_cents=1000, net_cents=900, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            external_id="c", total_cents=1000, net_cents=1000, currency="CHF", **base
        )
    order = Order.objects.create(external_id="ok", total_cents=1000, net_cents=1000, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=order, title="x", quantity=2, unit_price_cents=500, total_cents=999, tax_cents=0
        )


def test_a_return_refunds_lines_and_reduces_what_the_customer_spent(shop, anna):
    order = make_order(
        customer=anna, shop=shop, lines=((3, 1000, 700), (1, 5000, 1900)), shipping_cents=490
    )
    mug, machine = order.lines.all()
    record = services.record_return(
        order,
        lines=[ReturnLineInput(order_line_id=mug.pk, quantity=2)],
        reason="damaged",
        external_id="R1",
    )
    assert record.amount_cents == 2000
    order.refresh_from_db()
    assert order.refunded_cents == 2000
    anna.refresh_from_db()
    assert anna.total_spent_cents == order.total_cents - 2000
    event = DomainEvent.objects.get(kind="order.refunded")
    assert event.payload["lines"] == [{"order_line_id": mug.pk, "quantity": 2}]

    again = services.record_return(
        order, lines=[ReturnLineInput(order_line_id=mug.pk, quantity=2)], external_id="R1"
    )
    assert again == record and Return.objects.count() == 1

    with pytest.raises(OrderRejected) as excinfo:
        services.record_return(order, lines=[ReturnLineInput(order_line_id=mug.pk, quantity=2)])
    assert "lines.1" in excinfo.value.message_dict
    assert Return.objects.count() == 1


def test_refunds_never_exceed_the_order_total(shop):
    order = make_order(shop=shop, lines=((1, 1000, 700),), shipping_cents=490)
    line = order.lines.get()
    with pytest.raises(OrderRejected):
        services.record_return(
            order, lines=[ReturnLineInput(order_line_id=line.pk, quantity=1, amount_cents=1001)]
        )
    services.record_return(
        order, lines=[ReturnLineInput(order_line_id=line.pk, quantity=1)], shipping_refund_cents=490
    )
    with pytest.raises(OrderRejected):
        services.record_return(order, lines=[], shipping_refund_cents=1)


def test_a_return_refuses_lines_of_another_order_and_cancelled_orders(shop):
    first, second = make_order(shop=shop), make_order(shop=shop)
    with pytest.raises(OrderRejected):
        services.record_return(
            first, lines=[ReturnLineInput(order_line_id=second.lines.get().pk, quantity=1)]
        )
    services.cancel_order(second)
    with pytest.raises(OrderRejected):
        services.record_return(
            second, lines=[ReturnLineInput(order_line_id=second.lines.get().pk, quantity=1)]
        )


def test_an_order_with_returned_goods_keeps_its_lines(order_input):
    order = services.ingest_order(order_input).order
    services.record_return(
        order, lines=[ReturnLineInput(order_line_id=order.lines.first().pk, quantity=1)]
    )
    with pytest.raises(OrderRejected):
        services.ingest_order(
            replace(order_input, lines=order_input.lines[:1], total_cents=4980 + 490 - 1000)
        )
    shipped = services.ingest_order(replace(order_input, status=OrderStatus.DELIVERED))
    assert shipped.order.status == OrderStatus.DELIVERED


def test_cancelling_twice_is_harmless_and_refunded_orders_cannot_be_cancelled(shop, anna):
    order = make_order(customer=anna, shop=shop)
    services.cancel_order(order)
    services.cancel_order(order)
    assert DomainEvent.objects.filter(kind="order.cancelled").count() == 1
    refunded = make_order(customer=anna, shop=shop)
    services.record_return(
        refunded, lines=[ReturnLineInput(order_line_id=refunded.lines.get().pk, quantity=1)]
    )
    with pytest.raises(OrderRejected):
        services.cancel_order(refunded)


def test_moving_an_order_to_another_customer_fixes_both_summaries(order_input, anna, ben):
    services.ingest_order(order_input)
    services.ingest_order(replace(order_input, customer_id=ben.pk))
    anna.refresh_from_db()
    ben.refresh_from_db()
    assert (anna.order_count, ben.order_count) == (0, 1)


def test_an_older_version_of_an_order_never_overwrites_a_newer_one(order_input):
    now = timezone.now()
    newer = replace(order_input, status=OrderStatus.SHIPPED, source_updated_at=now)
    older = replace(
        order_input, status=OrderStatus.PAID, source_updated_at=now - timedelta(minutes=5)
    )
    services.ingest_order(newer)  # the update arrives first, before the create
    result = services.ingest_order(older)
    assert result.stale and not result.changed
    assert Order.objects.get().status == OrderStatus.SHIPPED
    later = services.ingest_order(
        replace(newer, status=OrderStatus.DELIVERED, source_updated_at=now + timedelta(minutes=1))
    )
    assert later.changed and later.order.status == OrderStatus.DELIVERED


def test_line_ids_from_the_shop_are_kept_for_refunds(order_input):
    lines = [replace(line, external_id=f"li-{i}") for i, line in enumerate(order_input.lines)]
    order = services.ingest_order(replace(order_input, lines=lines)).order
    assert sorted(order.lines.values_list("external_id", flat=True)) == ["li-0", "li-1"]


def test_products_are_upserted_by_sku_and_validated():
    product, created = services.upsert_product(
        sku=" BEAN-1 ", name="Bohne", price_cents=990, tax_rate_bp=700
    )
    assert created and product.sku == "BEAN-1"
    same, created = services.upsert_product(sku="BEAN-1", name="Bohne 250 g", price_cents=990)
    assert not created and same.pk == product.pk and same.name == "Bohne 250 g"
    with pytest.raises(services.ProductRejected) as excinfo:
        services.upsert_product(sku="BEAN-2", name="Tee", price_cents=500, reorder_interval_days=30)
    assert excinfo.value.message_dict
    with pytest.raises(services.ProductRejected):
        services.upsert_product(sku="BEAN-3", name="", price_cents=500)
    from treu.commerce.models import Product

    assert Product.objects.count() == 1


def test_a_batch_reports_each_order_and_refusals_do_not_stop_the_others(order_input):
    good = order_input
    bad = replace(order_input, external_id="5002", total_cents=1)
    other = replace(order_input, external_id="5003")
    results = services.ingest_orders([good, bad, other, good])
    assert [type(r).__name__ for r in results] == [
        "IngestResult",
        "OrderRejected",
        "IngestResult",
        "IngestResult",
    ]
    assert results[0].created and results[2].created
    assert not results[3].created and not results[3].changed
    assert "total_cents" in results[1].message_dict
    assert Order.objects.count() == 2


def test_a_refund_without_items_is_recorded_as_such(shop, anna):
    order = make_order(customer=anna, shop=shop, lines=((1, 3000, 700),))
    record = services.record_return(order, lines=[], other_refund_cents=500, external_id="wc-9")
    assert (record.amount_cents, record.other_refund_cents, record.shipping_refund_cents) == (
        500,
        500,
        0,
    )
    order.refresh_from_db()
    assert order.refunded_cents == 500
    with pytest.raises(OrderRejected):
        services.record_return(order, lines=[], other_refund_cents=-1)
