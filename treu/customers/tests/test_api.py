from __future__ import annotations

import pytest

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.customers.models import Customer, ExternalId
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ANNA = {"email": "anna.mueller@example.de", "first_name": "Anna", "last_name": "Müller"}


def test_it_creates_a_customer_then_finds_them_by_email(api):
    created = api.post("/customers", ANNA)
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "anna.mueller@example.de"
    assert body["display_number"].startswith("K")
    again = api.post("/customers", {"email": "Anna.Mueller@Example.de", "phone": "030 1234567"})
    assert again.status_code == 200
    assert again.json()["number"] == body["number"]
    assert again.json()["first_name"] == "Anna"  # blank fields never erase
    assert again.json()["phone"] == "030 1234567"


def test_it_upserts_by_the_shops_external_id(api, shop):
    first = api.post("/customers", {"shop": "online", "external_id": "c-77", "first_name": "Ben"})
    assert first.status_code == 201
    assert first.json()["external_ids"] == [{"shop": "online", "external_id": "c-77"}]
    second = api.post(
        "/customers", {"shop": "online", "external_id": "c-77", "email": "ben@example.de"}
    )
    assert second.json()["number"] == first.json()["number"]
    assert Customer.objects.count() == 1


def test_it_refuses_a_customer_it_cannot_identify_or_an_unknown_shop(api, shop):
    assert api.post("/customers", {"first_name": "Anna"}).status_code == 422
    response = api.post("/customers", {"shop": "nope", "external_id": "1", "email": "a@b.de"})
    assert response.status_code == 422
    assert errors_at(response, "body", "shop")
    assert not Customer.objects.exists()


def test_it_refuses_an_invalid_email_with_the_field(api):
    response = api.post("/customers", {"email": "kein-at-zeichen"})
    assert response.status_code == 422
    assert errors_at(response, "body", "email")
    assert not Customer.objects.exists()


def test_get_put_and_patch_by_number(api, anna):
    url = f"/customers/{anna.number}"
    assert api.get(url).json()["email"] == anna.email
    assert api.get(f"/customers/K{anna.number:06d}").status_code == 200
    patched = api.patch(url, {"phone": "0171 2345678"})
    assert patched.status_code == 200
    assert patched.json()["first_name"] == "Anna"
    assert patched.json()["phone"] == "0171 2345678"
    replaced = api.put(url, {"first_name": "Anna", "last_name": "Schmidt", "email": anna.email})
    assert replaced.json()["last_name"] == "Schmidt"
    assert replaced.json()["phone"] == ""  # PUT replaces: left out means empty


def test_a_patch_to_a_taken_email_is_refused_and_writes_nothing(api, anna, ben):
    response = api.patch(f"/customers/{anna.number}", {"email": ben.email, "phone": "1"})
    assert response.status_code == 422
    assert errors_at(response, "body", "email")
    anna.refresh_from_db()
    assert anna.phone == ""


def test_unknown_and_erased_customers_are_404(api, anna):
    assert api.get("/customers/999999999").status_code == 404
    assert api.get("/customers/abc").status_code == 404
    Customer.objects.filter(pk=anna.pk).update(erased_at="2024-01-01T00:00:00Z")
    assert api.get(f"/customers/{anna.number}").status_code == 404


def test_the_cursor_walks_every_customer_once_even_while_rows_are_added(api):
    CustomerFactory.create_batch(7)
    seen, cursor, pages = [], None, 0
    while True:
        page = api.get("/customers", limit=3, cursor=cursor).json()
        seen += [c["number"] for c in page["items"]]
        pages += 1
        if pages == 1:
            CustomerFactory()  # arrives while the client pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8
    assert pages == 3


def test_it_refuses_a_forged_cursor_and_a_limit_over_200(api):
    assert errors_at(api.get("/customers", cursor="Zm9vOmJhcg"), "query", "cursor")
    assert api.get("/customers", limit=201).status_code == 422


def test_the_list_filters_by_update_time_and_email(api, anna, ben):
    assert [c["email"] for c in api.get("/customers", email=ben.email).json()["items"]] == [
        ben.email
    ]
    later = api.get("/customers", updated_since="2999-01-01T00:00:00+01:00").json()
    assert later["items"] == []


def test_the_customer_list_needs_a_fixed_number_of_queries(
    api, shop, django_assert_max_num_queries
):
    for customer in CustomerFactory.create_batch(30):
        ExternalId.objects.create(customer=customer, shop=shop, external_id=str(customer.pk))
    api.get("/customers")  # the key's first use is remembered once
    # key, rate counter (update + read), customers, their external ids with shops
    with django_assert_max_num_queries(5):
        response = api.get("/customers", limit=30)
    assert len(response.json()["items"]) == 30


def test_a_batch_upserts_valid_customers_and_reports_the_rest(api):
    response = api.post(
        "/customers/batch",
        {
            "customers": [
                ANNA,
                {"email": "kaputt"},
                {"first_name": "Nur Name"},
                {"email": "ben@example.de", "unbekannt": 1},
                {"email": "anna.mueller@example.de", "phone": "030 1"},
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "created", "rejected", "rejected", "rejected", "updated",
    ]  # fmt: skip
    assert results[1]["errors"][0]["loc"] == ["body", "customers", 1, "email"]
    assert results[3]["errors"][0]["loc"] == ["body", "customers", 3, "unbekannt"]
    assert Customer.objects.count() == 1


def test_a_batch_takes_at_most_1000_customers(api):
    response = api.post("/customers/batch", {"customers": [{"email": "a@b.de"}] * 1001})
    assert response.status_code == 422
    assert errors_at(response, "body", "customers")
    assert not Customer.objects.exists()
