from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.api import services
from treu.api.models import IdempotencyRecord
from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.core.models import DomainEvent
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db
ANNA = {"email": "anna.mueller@example.de", "first_name": "Anna", "last_name": "Müller"}


def test_a_replayed_write_returns_the_first_answer_and_changes_nothing(api):
    first = api.post("/customers", ANNA, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    events = DomainEvent.objects.count()
    again = api.post("/customers", ANNA, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Customer.objects.count() == 1
    assert DomainEvent.objects.count() == events


def test_it_refuses_the_same_key_for_a_different_request(api):
    api.post("/customers", ANNA, headers={"Idempotency-Key": "k-1"})
    response = api.post(
        "/customers", {**ANNA, "first_name": "Anne"}, headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Customer.objects.get().first_name == "Anna"


def test_keys_of_different_api_keys_do_not_meet(api_as, make_key):
    one, two = api_as(make_key().secret), api_as(make_key().secret)
    one.post("/customers", ANNA, headers={"Idempotency-Key": "same"})
    response = two.post(
        "/customers", {**ANNA, "phone": "0301234"}, headers={"Idempotency-Key": "same"}
    )
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


def test_a_refused_request_is_not_stored_and_may_be_corrected(api):
    bad = api.post("/customers", {"email": "kaputt"}, headers={"Idempotency-Key": "k-2"})
    assert bad.status_code == 422
    assert not IdempotencyRecord.objects.exists()
    good = api.post("/customers", ANNA, headers={"Idempotency-Key": "k-2"})
    assert good.status_code == 201


def test_records_expire_after_24_hours(api):
    api.post("/customers", ANNA, headers={"Idempotency-Key": "k-3"})
    assert services.expire_records(now=timezone.now() + timedelta(hours=23))[0] == 0
    assert services.expire_records(now=timezone.now() + timedelta(hours=25))[0] == 1
    assert not IdempotencyRecord.objects.exists()


def test_erasing_a_customer_deletes_stored_answers_naming_them(api):
    from treu.core import privacy

    api.post("/customers", ANNA, headers={"Idempotency-Key": "k-4"})
    api.post("/customers", {"email": "ben@example.de"}, headers={"Idempotency-Key": "k-5"})
    anna = Customer.objects.get(email=ANNA["email"])
    assert privacy.export_customer(anna)["api.IdempotencyRecord"]
    privacy.erase_customer(anna)
    assert list(IdempotencyRecord.objects.values_list("idempotency_key", flat=True)) == ["k-5"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_take_effect_once(make_key):
    """Two processes sending the same request at once: one works, the other replays it."""
    import threading

    from django.db import connection
    from django.test import Client

    from treu.api.tests.fixtures import ApiClient

    secret = make_key().secret
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            barrier.wait()
            client = ApiClient(Client(), secret)
            answers.append(client.post("/customers", ANNA, headers={"Idempotency-Key": "race"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert sum(a.get("Idempotent-Replayed") == "true" for a in answers) == 1
    assert Customer.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
