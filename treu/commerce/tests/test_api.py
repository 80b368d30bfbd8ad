from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.commerce.models import Order, OrderStatus, Product, Return
from treu.commerce.tests.factories import CategoryFactory, ProductFactory, make_order
from treu.core.models import DomainEvent
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db

ORDER = {
    "number": "#1042",
    "placed_at": "2024-05-03T14:30:00+02:00",
    "total_cents": 3470,
    "shipping_cents": 490,
    "lines": [
        {"external_id": "L1", "sku": "ESP-250", "title": "Espresso Bohnen 250 g",
         "quantity": 2, "unit_price_cents": 1490, "tax_rate_bp": 700},
    ],
    "customer": {"email": "anna.mueller@example.de", "first_name": "Anna",
                 "last_name": "Müller", "external_id": "c-1"},
}  # fmt: skip


def order(**changes):
    data = copy.deepcopy(ORDER)
    data.update(changes)
    return data


def nothing_written():
    return not (Order.objects.exists() or Customer.objects.exists() or DomainEvent.objects.exists())


# -- Products ---------------------------------------------------------------------------------


def test_it_upserts_a_product_by_sku(api):
    CategoryFactory()
    created = api.put(
        "/products/ESP-250",
        {"name": "Espresso 250 g", "price_cents": 1490, "tax_rate_bp": 700,
         "category": "kaffeebohnen", "is_consumable": True, "reorder_interval_days": 30},
    )  # fmt: skip
    assert created.status_code == 201
    assert created.json()["category"] == "kaffeebohnen"
    updated = api.put("/products/ESP-250", {"name": "Espresso 250 g", "price_cents": 1590})
    assert updated.status_code == 200
    assert api.get("/products/ESP-250").json()["price_cents"] == 1590
    assert api.get("/products/NOPE").status_code == 404


def test_it_refuses_an_unknown_category_and_a_price_in_euros(api):
    response = api.put("/products/X", {"name": "X", "price_cents": 14.9, "category": "nope"})
    assert errors_at(response, "body", "price_cents")
    response = api.put("/products/X", {"name": "X", "price_cents": 1490, "category": "nope"})
    assert errors_at(response, "body", "category")
    assert not Product.objects.exists()


def test_a_product_batch_reports_each_item(api):
    response = api.post(
        "/products/batch",
        {"products": [{"sku": "A", "name": "Crema", "price_cents": 1290},
                      {"sku": "B", "name": "Decaf", "price_cents": -1}]},
    )  # fmt: skip
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected"]
    assert list(Product.objects.values_list("sku", flat=True)) == ["A"]


def test_the_product_list_pages_with_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    ProductFactory.create_batch(25)
    api.get("/products")
    with django_assert_max_num_queries(4):
        first = api.get("/products", limit=20).json()
    second = api.get("/products", limit=20, cursor=first["next_cursor"]).json()
    assert len(first["items"]) == 20 and len(second["items"]) == 5
    assert second["next_cursor"] is None


# -- Orders -----------------------------------------------------------------------------------


def test_it_creates_an_order_with_its_customer_and_replays_it_unchanged(api, shop):
    created = api.put("/orders/online/1042", ORDER)
    assert created.status_code == 201
    body = created.json()
    assert body["result"] == "created"
    assert body["order"]["total_cents"] == 3470
    assert body["order"]["lines"][0]["external_id"] == "L1"
    customer = Customer.objects.get()
    assert body["order"]["customer_number"] == customer.number
    again = api.put("/orders/online/1042", ORDER)
    assert again.status_code == 200
    assert again.json()["result"] == "unchanged"
    assert Order.objects.count() == 1


def test_an_older_version_of_an_order_is_stale(api, shop):
    api.put("/orders/online/1", order(source_updated_at="2024-05-03T15:00:00+02:00"))
    response = api.put(
        "/orders/online/1",
        order(status="shipped", source_updated_at="2024-05-03T14:45:00+02:00"),
    )
    assert response.json()["result"] == "stale"
    assert Order.objects.get().status == OrderStatus.PAID


def test_an_unknown_shop_is_404(api, shop):
    assert api.put("/orders/nope/1", ORDER).status_code == 404
    assert api.get("/orders/online/404").status_code == 404


def test_it_lists_orders_with_a_fixed_number_of_queries(
    api, shop, anna, django_assert_max_num_queries
):
    for _ in range(12):
        make_order(customer=anna, shop=shop, lines=((1, 1490, 700), (2, 990, 1900)))
    api.get("/orders")
    with django_assert_max_num_queries(7):
        response = api.get("/orders", limit=10, shop="online", customer_number=anna.number)
    assert len(response.json()["items"]) == 10
    assert response.json()["next_cursor"]


def test_it_cancels_an_order(api, shop):
    api.put("/orders/online/1042", ORDER)
    response = api.post("/orders/online/1042/cancel", {})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert api.post("/orders/online/1042/cancel").status_code == 200  # again: nothing changes


def test_it_refunds_by_the_shops_line_id_exactly_once(api, shop):
    api.put("/orders/online/1042", ORDER)
    refund = {"external_id": "r-1", "reason": "damaged",
              "lines": [{"line_external_id": "L1", "quantity": 1}]}  # fmt: skip
    first = api.post("/orders/online/1042/refunds", refund)
    assert first.status_code == 201
    assert first.json()["amount_cents"] == 1490
    assert first.json()["lines"][0]["line_external_id"] == "L1"
    again = api.post("/orders/online/1042/refunds", refund)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.get().refunded_cents == 1490
    # An order with refunds cannot be cancelled any more.
    assert api.post("/orders/online/1042/cancel").status_code == 409


def test_it_refuses_a_refund_for_an_unknown_line_or_too_many_items(api, shop):
    api.put("/orders/online/1042", ORDER)
    response = api.post(
        "/orders/online/1042/refunds", {"lines": [{"line_external_id": "L9", "quantity": 1}]}
    )
    assert errors_at(response, "body", "lines", 0, "line_external_id")
    line_id = Order.objects.get().lines.get().pk
    response = api.post(
        "/orders/online/1042/refunds", {"lines": [{"line_id": line_id, "quantity": 3}]}
    )
    assert response.status_code == 422
    assert errors_at(response, "body", "lines", 0)
    assert not Return.objects.exists()


# -- Bad input: a clear 4xx with field and reason, and nothing written -------------------------

FUTURE = (timezone.now() + timedelta(days=2)).isoformat()
BAD = [
    ("negative quantity", order(lines=[{**ORDER["lines"][0], "quantity": -2}]),
     ("body", "lines", 0, "quantity")),
    ("wrong type", order(total_cents="3470"), ("body", "total_cents")),
    ("euros, not cents", order(total_cents=34.70), ("body", "total_cents")),
    ("unknown field", order(gutschein="SOMMER"), ("body", "gutschein")),
    ("unknown field in a line", order(lines=[{**ORDER["lines"][0], "farbe": "rot"}]),
     ("body", "lines", 0, "farbe")),
    ("totals do not add up", order(total_cents=9999), ("body", "total_cents")),
    ("unknown currency", order(currency="USD"), ("body", "currency")),
    ("date in the future", order(placed_at=FUTURE), ("body", "placed_at")),
    ("time without offset", order(placed_at="2024-05-03T14:30:00"), ("body", "placed_at")),
    ("missing lines", order(lines=[]), ("body", "lines")),
    ("invalid customer email", order(customer={"email": "kaputt"}), ("body", "customer", "email")),
]  # fmt: skip


@pytest.mark.parametrize(("data", "loc"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_orders_are_refused_with_field_and_reason(api, shop, data, loc):
    response = api.put("/orders/online/1042", data)
    assert response.status_code == 422, response.content
    assert errors_at(response, *loc), response.json()
    assert all(e["msg"] for e in response.json()["detail"])
    assert nothing_written()


def test_german_is_the_default_and_english_is_on_request(api, shop):
    german = api.put("/orders/online/1042", order(placed_at=FUTURE))
    assert errors_at(german, "body", "placed_at") == ["Die Bestellung ist in die Zukunft datiert."]
    english = api.call(
        "PUT", "/orders/online/1042", order(placed_at=FUTURE), headers={"Accept-Language": "en"}
    )
    assert errors_at(english, "body", "placed_at") == ["The order is dated in the future."]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [(b'{"total_cents": 1', "invalid_json"), (b'{"title": "Caf\xe9"}', "invalid_utf8"),
     (b'{"a": NaN}', "invalid_json"), (b'{"a": 1, "a": 2}', "invalid_json")],
    ids=["malformed JSON", "invalid UTF-8", "NaN", "duplicate key"],
)  # fmt: skip
def test_unreadable_bodies_are_400(api, shop, raw, kind):
    response = api.put("/orders/online/1042", raw=raw)
    assert response.status_code == 400
    assert response.json()["detail"][0] == {
        "loc": ["body"],
        "msg": response.json()["detail"][0]["msg"],
        "type": kind,
    }
    assert nothing_written()


def test_a_10_mb_body_is_413(api, shop):
    big = json.dumps(order(number="x" * (10 * 1024 * 1024))).encode()
    response = api.put("/orders/online/1042", raw=big)
    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"
    assert nothing_written()


def test_a_full_batch_over_djangos_own_limit_is_accepted(api, shop):
    lines = [{**ORDER["lines"][0], "title": "Espresso " + "x" * 150}] * 10
    data = order(lines=lines, total_cents=10 * 2980 + 490, customer=None)
    body = {"orders": [{**data, "shop": "online", "external_id": str(i)} for i in range(1000)]}
    assert len(json.dumps(body)) > 2.5 * 1024 * 1024
    response = api.post("/orders/batch", body)
    assert response.status_code == 200
    assert Order.objects.count() == 1000


def test_a_batch_takes_valid_orders_and_reports_the_rest(api, shop, anna):
    def item(i, **changes):
        return {**order(**changes), "shop": "online", "external_id": f"B{i}"}

    response = api.post(
        "/orders/batch",
        {
            "orders": [
                item(0),
                item(1, total_cents=1),
                item(2, customer={"email": "kaputt"}),
                item(3, customer=None, customer_number=anna.number),
                {**item(4), "shop": "nope"},
                item(5, lines="keine"),
                item(0),
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "created", "rejected", "rejected", "created", "rejected", "rejected", "unchanged",
    ]  # fmt: skip
    assert [r["index"] for r in results] == list(range(7))
    assert results[1]["errors"][0]["loc"] == ["body", "orders", 1, "total_cents"]
    assert results[2]["errors"][0]["loc"] == ["body", "orders", 2, "customer", "email"]
    assert results[4]["errors"][0]["loc"] == ["body", "orders", 4, "shop"]
    assert set(Order.objects.values_list("external_id", flat=True)) == {"B0", "B3"}
    # B0's buyer is Anna, found by her email; the refused orders left no customer behind.
    assert Customer.objects.count() == 1
    assert Order.objects.get(external_id="B0").customer == anna
    assert Order.objects.get(external_id="B3").customer == anna
