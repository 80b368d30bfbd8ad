"""The batch path (`ingest_orders`) means exactly what `ingest_order` per item means, but fast."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treu.commerce import services
from treu.commerce.events import ORDER_CANCELLED, ORDER_INGESTED, ORDER_UPDATED
from treu.commerce.models import Order, OrderLine, OrderStatus
from treu.commerce.services import (
    IngestResult,
    LineInput,
    OrderInput,
    OrderRejected,
    ReturnLineInput,
)
from treu.commerce.tests.factories import ProductFactory, ShopFactory
from treu.core import events
from treu.core.models import DomainEvent
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
LINES = [
    LineInput(title="Espresso 1 kg", sku="ESP-1000", quantity=2, unit_price_cents=2490),
    LineInput(title="Filter 250 g", sku="FIL-250", quantity=1, unit_price_cents=790),
    LineInput(title="Handmühle", sku="", quantity=1, unit_price_cents=5900, discount_cents=500),
    LineInput(title="Tasse", sku="CUP", quantity=3, unit_price_cents=900, external_id="L-9"),
]


def order(shop, external_id: str, *, lines=(0,), customer_id=None, shipping=0, **fields):
    chosen = [LINES[i] for i in lines]
    fields.setdefault("placed_at", NOW - timedelta(days=3))
    return OrderInput(
        shop=shop,
        external_id=external_id,
        number=f"#{external_id}",
        customer_id=customer_id,
        lines=chosen,
        shipping_cents=shipping,
        total_cents=sum(line.total_cents for line in chosen) + shipping,
        **fields,
    )


# -- what the database holds, independent of ids, for comparing two runs ---------------------


def _state() -> dict:
    key_of = {o.pk: (o.shop_id, o.external_id) for o in Order.objects.all()}
    orders = {
        key: Order.objects.values(
            "number", "customer_id", "status", "subtotal_cents", "shipping_cents",
            "discount_cents", "total_cents", "tax_cents", "net_cents", "refunded_cents",
            "placed_at", "paid_at", "cancelled_at", "source_updated_at",
        ).get(pk=pk)
        for pk, key in key_of.items()
    }  # fmt: skip
    lines: dict = {}
    for line in OrderLine.objects.order_by("order_id", "id").values(
        "order_id", "product_id", "external_id", "sku", "title", "quantity",
        "unit_price_cents", "discount_cents", "total_cents", "tax_rate_bp", "tax_cents",
    ):  # fmt: skip
        lines.setdefault(key_of[line.pop("order_id")], []).append(line)
    # Events per order, in the order they were written (across orders the batch may
    # interleave them differently; per order it must not).
    per_order: dict = {}
    for event in DomainEvent.objects.order_by("id"):
        payload = dict(event.payload)
        key = key_of.get(payload.pop("order_id", None))
        at = event.occurred_at if event.kind == ORDER_INGESTED else "now"
        per_order.setdefault(key, []).append(
            (event.kind, event.customer_id, event.source, payload, at)
        )
    summaries = list(
        Customer.objects.order_by("pk").values_list(
            "pk", "first_order_at", "last_order_at", "order_count", "total_spent_cents"
        )
    )
    return {"orders": orders, "lines": lines, "events": per_order, "summaries": summaries}


def _outcome(result) -> tuple:
    if isinstance(result, OrderRejected):
        return ("refused", result.message_dict)
    o = result.order
    return (
        "ok", (o.shop_id, o.external_id), o.status, o.total_cents, o.customer_id,
        result.created, result.changed, result.stale,
    )  # fmt: skip


def _run_both(batch):
    """Run the batch one by one and set-based from the same starting point; return both."""
    sid = transaction.savepoint()
    expected = [_outcome(r) for r in services._ingest_orders_one_by_one(batch)]
    expected_state = _state()
    transaction.savepoint_rollback(sid)
    # Patched where `ingest_orders` looks it up: in the batch module, not the package.
    with mock.patch.object(
        services.batch, "_ingest_orders_one_by_one", side_effect=AssertionError("fell back")
    ):
        got = [_outcome(r) for r in services.ingest_orders(batch)]
    return (expected, expected_state), (got, _state())


# -- equivalence ------------------------------------------------------------------------------


@st.composite
def batches(draw, shop, other_shop, customers):
    shops = [shop, other_shop]
    items = []
    for _ in range(draw(st.integers(1, 12))):
        lines = draw(st.lists(st.integers(0, len(LINES) - 1), min_size=1, max_size=3))
        data = order(
            draw(st.sampled_from(shops)),
            draw(st.sampled_from(["A", "B", "C", "D"])),
            lines=lines,
            customer_id=draw(st.sampled_from([*customers, None])),
            shipping=draw(st.sampled_from([0, 490])),
            status=draw(st.sampled_from([OrderStatus.PAID, OrderStatus.SHIPPED, "cancelled"])),
            source_updated_at=draw(
                st.sampled_from([None, NOW - timedelta(hours=2), NOW - timedelta(hours=1)])
            ),
            source=draw(st.sampled_from(["", "shopify"])),
        )
        flaw = draw(st.sampled_from([None] * 6 + ["total", "currency", "customer"]))
        if flaw == "total":
            data = replace(data, total_cents=data.total_cents + 1)
        elif flaw == "currency":
            data = replace(data, currency="USD")
        elif flaw == "customer":
            data = replace(data, customer_id=999_999_999)
        items.append(data)
    return items


@pytest.fixture
def world(shop, anna, ben):
    ProductFactory(sku="ESP-1000")
    ProductFactory(sku="CUP")
    other = ShopFactory(code="laden", name="Laden")
    # What the database already holds: orders A (with a return) and B of the online shop.
    services.ingest_order(order(shop, "A", lines=(0, 3), customer_id=anna.pk))
    held = services.ingest_order(
        order(shop, "B", lines=(1,), customer_id=ben.pk, source_updated_at=NOW - timedelta(hours=1))
    )
    a = Order.objects.get(shop=shop, external_id="A")
    services.record_return(a, lines=[ReturnLineInput(a.lines.first().pk, 1)])
    assert held.created
    return shop, other, [anna.pk, ben.pk]


def test_a_batch_means_the_same_as_its_items_one_by_one(world):
    shop, other, customers = world

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=batches(shop, other, customers))
    def check(batch):
        sid = transaction.savepoint()
        try:
            expected, got = _run_both(batch)
            assert got == expected
        finally:
            transaction.savepoint_rollback(sid)

    check()


def test_the_same_order_twice_in_a_batch_is_an_update_of_the_first(shop, anna):
    first = order(shop, "7", customer_id=anna.pk)
    cancelled = replace(first, status=OrderStatus.CANCELLED)
    expected, got = _run_both([first, cancelled, first])
    assert got == expected
    results, state = got
    assert [r[5:7] for r in results] == [(True, True), (False, True), (False, True)]
    kinds = [e[0] for e in state["events"][(shop.pk, "7")]]
    assert kinds == [ORDER_INGESTED, ORDER_CANCELLED, ORDER_UPDATED]


# -- speed: a constant number of queries ------------------------------------------------------


def _new_orders(shop, customers, n: int, prefix: str) -> list[OrderInput]:
    return [
        order(shop, f"{prefix}{i}", lines=(i % 4, (i + 1) % 4), customer_id=customers[i % 2])
        for i in range(n)
    ]


def _queries(batch) -> int:
    with CaptureQueriesContext(connection) as ctx:
        results = services.ingest_orders(batch)
    assert all(isinstance(r, IngestResult) for r in results)
    return len(ctx)


def test_new_orders_take_a_constant_number_of_queries(shop, anna, ben):
    ProductFactory(sku="ESP-1000")
    small = _queries(_new_orders(shop, [anna.pk, ben.pk], 10, "s"))
    large = _queries(_new_orders(shop, [anna.pk, ben.pk], 100, "l"))
    # savepoint, customers, existing orders, products, ids + INSERT orders, INSERT lines,
    # ids + INSERT events, one UPDATE adding the new orders to the customers' figures, release
    assert small == large == 11


def test_a_replayed_batch_reads_and_writes_nothing_else(shop, anna, ben):
    batch = _new_orders(shop, [anna.pk, ben.pk], 100, "r")
    services.ingest_orders(batch)
    events_before = DomainEvent.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        results = services.ingest_orders(batch)
    assert all(not r.created and not r.changed for r in results)
    # savepoint, customers, orders, their lines, release: no writes at all
    assert len(ctx) == 5
    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in ctx
    )
    assert DomainEvent.objects.count() == events_before


# -- events, refusals, summaries --------------------------------------------------------------


def test_events_are_dispatched_only_after_commit(
    shop, anna, django_capture_on_commit_callbacks, monkeypatch
):
    dispatched = []
    monkeypatch.setattr(events, "dispatch", dispatched.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.ingest_orders([order(shop, "1", customer_id=anna.pk), order(shop, "2")])
        assert dispatched == []
    written = list(DomainEvent.objects.filter(kind=ORDER_INGESTED).order_by("id"))
    assert len(callbacks) == 2
    assert [e.pk for e in dispatched] == [e.pk for e in written]
    assert written[0].customer_id == anna.pk and written[0].source == ""


def test_nothing_is_written_for_refused_orders(shop, anna, django_assert_num_queries):
    bad = [
        replace(order(shop, "1"), total_cents=1),
        replace(order(shop, "2"), currency="CHF"),
        replace(order(shop, "3"), lines=[]),
        replace(order(shop, "4"), placed_at=timezone.now() + timedelta(days=2)),
    ]
    with django_assert_num_queries(0):
        results = services.ingest_orders(bad)
    assert all(isinstance(r, OrderRejected) for r in results)
    unknown = services.ingest_orders([order(shop, "5", customer_id=999_999_999)])
    assert "customer_id" in unknown[0].message_dict
    assert not Order.objects.exists() and not DomainEvent.objects.exists()


def test_it_refuses_changing_the_lines_of_returned_goods_but_takes_the_rest(shop, anna):
    services.ingest_order(order(shop, "1", lines=(0,), customer_id=anna.pk))
    taken = Order.objects.get()
    services.record_return(taken, lines=[ReturnLineInput(taken.lines.get().pk, 1)])
    results = services.ingest_orders(
        [order(shop, "1", lines=(1,), customer_id=anna.pk), order(shop, "2", customer_id=anna.pk)]
    )
    assert "lines" in results[0].message_dict and results[1].created
    assert list(taken.lines.values_list("sku", flat=True)) == ["ESP-1000"]


def test_customer_figures_match_a_fresh_computation(shop, anna, ben):
    earlier = order(shop, "1", customer_id=anna.pk, placed_at=NOW - timedelta(days=9))
    services.ingest_orders(
        [
            earlier,
            order(shop, "2", lines=(1, 2), customer_id=anna.pk),
            order(shop, "3", customer_id=ben.pk),
            replace(order(shop, "3", customer_id=ben.pk), status=OrderStatus.CANCELLED),
            order(shop, "4", customer_id=ben.pk, lines=(3,)),
            replace(order(shop, "4", lines=(3,)), customer_id=anna.pk),  # moves to anna
        ]
    )
    anna.refresh_from_db()
    ben.refresh_from_db()
    spent = sum(o.total_cents for o in Order.objects.filter(customer=anna))
    assert (anna.order_count, anna.total_spent_cents) == (3, spent)
    assert anna.first_order_at == earlier.placed_at
    assert (ben.order_count, ben.total_spent_cents, ben.last_order_at) == (0, 0, None)
    figures = {
        c.pk: (c.first_order_at, c.last_order_at, c.order_count, c.total_spent_cents)
        for c in Customer.objects.all()
    }
    for customer_id in figures:
        services.refresh_customer_summary(customer_id)
    assert figures == {
        c.pk: (c.first_order_at, c.last_order_at, c.order_count, c.total_spent_cents)
        for c in Customer.objects.all()
    }


def test_line_products_are_resolved_by_sku(shop):
    espresso = ProductFactory(sku="ESP-1000")
    services.ingest_orders([order(shop, "1", lines=(0, 2))])
    assert list(OrderLine.objects.values_list("product_id", flat=True)) == [espresso.pk, None]


def test_new_orders_add_to_the_figures_a_customer_already_has(shop, anna):
    services.ingest_order(
        order(shop, "old", customer_id=anna.pk, placed_at=NOW - timedelta(days=40))
    )
    services.ingest_orders(
        [
            order(shop, "n1", lines=(1,), customer_id=anna.pk, placed_at=NOW - timedelta(days=2)),
            order(shop, "n2", customer_id=anna.pk, status=OrderStatus.CANCELLED),
            order(shop, "n3", lines=(3,), customer_id=anna.pk, placed_at=NOW - timedelta(days=1)),
        ]
    )
    anna.refresh_from_db()
    stored = (anna.first_order_at, anna.last_order_at, anna.order_count, anna.total_spent_cents)
    services.refresh_customer_summary(anna.pk)
    anna.refresh_from_db()
    assert stored == (
        anna.first_order_at,
        anna.last_order_at,
        anna.order_count,
        anna.total_spent_cents,
    )
    assert stored[:3] == (NOW - timedelta(days=40), NOW - timedelta(days=1), 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_for_one_customer_both_count(shop, anna):
    """Two importers writing new orders of one customer at the same moment.

    The second batch runs while the first has written but not committed; a figure
    computed from what it can see then would miss the first batch's 50 orders.
    """
    import threading
    import time

    first_written = threading.Event()
    failures = []

    def ingest(prefix: str) -> None:
        try:
            batch = [order(shop, f"{prefix}{n}", customer_id=anna.pk) for n in range(50)]
            if prefix == "a":
                with transaction.atomic():
                    results = services.ingest_orders(batch)
                    first_written.set()
                    time.sleep(0.5)  # the other batch starts meanwhile
            else:
                assert first_written.wait(timeout=10)
                results = services.ingest_orders(batch)
            failures.extend(r for r in results if isinstance(r, OrderRejected))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    anna.refresh_from_db()
    assert anna.order_count == Order.objects.filter(customer=anna).count() == 100
    spent = sum(Order.objects.filter(customer=anna).values_list("total_cents", flat=True))
    assert anna.total_spent_cents == spent
