"""The batch path (`upsert_customers`) means exactly what `upsert_customer` per item means."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treu.commerce.tests.factories import ShopFactory
from treu.core import events
from treu.core.models import DomainEvent
from treu.customers import services
from treu.customers.events import CUSTOMER_CREATED, CUSTOMER_UPDATED
from treu.customers.models import Customer, ExternalId
from treu.customers.services import CustomerError, CustomerInput, UpsertResult

pytestmark = pytest.mark.django_db

SIGNED_UP = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)

FIELDS = (
    "first_name", "last_name", "email", "phone", "birthday", "language", "source_channel",
    "source_shop_id", "search_first_last", "search_last_first",
)  # fmt: skip


def _state() -> dict:
    customers = {c["number"]: c for c in Customer.objects.values("number", *FIELDS)}
    for number, entered in Customer.objects.values_list("number", "birthday_entered_at"):
        customers[number]["birthday_entered"] = entered is not None
    number_of = dict(Customer.objects.values_list("pk", "number"))
    links = sorted(
        (shop_id, external_id, number_of[customer_id])
        for shop_id, external_id, customer_id in ExternalId.objects.values_list(
            "shop_id", "external_id", "customer_id"
        )
    )
    per_customer: dict = {}
    for event in DomainEvent.objects.order_by("id"):
        at = event.occurred_at if event.occurred_at == SIGNED_UP else "now"
        per_customer.setdefault(number_of.get(event.customer_id), []).append(
            (event.kind, event.payload, event.source, at)
        )
    return {"customers": customers, "links": links, "events": per_customer}


def _outcome(result) -> tuple:
    if isinstance(result, CustomerError):
        return ("refused", result.messages)
    c = result.customer
    return ("ok", c.number, result.created, result.changed, *(getattr(c, f) for f in FIELDS))


def _run_both(batch, *, event_source="test"):
    sid = transaction.savepoint()
    reference = services._upsert_customers_one_by_one(batch, event_source=event_source)
    expected = ([_outcome(r) for r in reference], _state())
    transaction.savepoint_rollback(sid)
    # Patched where `upsert_customers` looks it up: in the batch module, not the package.
    with mock.patch.object(
        services.batch, "_upsert_customers_one_by_one", side_effect=AssertionError("fell back")
    ):
        results = services.upsert_customers(batch, event_source=event_source)
    return expected, ([_outcome(r) for r in results], _state())


@st.composite
def batches(draw, shops):
    text = st.sampled_from(["", "Anna", "  ", " Jürgen ", "Weiß", "x" * 151])
    items = []
    for _ in range(draw(st.integers(1, 10))):
        shop = draw(st.sampled_from([None, *shops]))
        items.append(
            CustomerInput(
                shop=shop,
                external_id=draw(st.sampled_from(["", "1", "2", "3"])) if shop else "",
                email=draw(
                    st.sampled_from(
                        [
                            None,
                            "",
                            "anna@example.de",
                            "ANNA@example.de ",
                            "ben@example.de",
                            "neu@example.de",
                            "kaputt",
                            "old@example.de",
                        ]
                    )
                ),  # fmt: skip
                first_name=draw(text),
                last_name=draw(text),
                phone=draw(st.sampled_from(["", "0170 1234567"])),
                birthday=draw(st.sampled_from([None, date(1990, 5, 17)])),
                language=draw(st.sampled_from(["", "de", "en", "xx"])),
                occurred_at=draw(st.sampled_from([None, SIGNED_UP])),
            )
        )
    return items


@pytest.fixture
def world(shop, anna, ben):
    other = ShopFactory(code="laden", name="Laden")
    services.link_external_id(anna, shop=shop, external_id="1")
    services.link_external_id(ben, shop=other, external_id="2")
    services.create_customer(first_name="Olga", email="old@example.de")
    return [shop, other]


def test_a_batch_means_the_same_as_its_items_one_by_one(world):
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=batches(world))
    def check(batch):
        sid = transaction.savepoint()
        try:
            expected, got = _run_both(batch)
            assert got == expected
        finally:
            transaction.savepoint_rollback(sid)

    check()


def test_the_same_new_customer_twice_is_created_once_and_then_updated(shop):
    batch = [
        CustomerInput(shop=shop, external_id="9", email="Neu@Example.de", first_name="Nora"),
        CustomerInput(email="neu@example.de", last_name="Neumann"),
        CustomerInput(shop=shop, external_id="9", phone="0301234"),
    ]
    expected, got = _run_both(batch)
    assert got == expected
    outcomes, state = got
    assert [o[2:4] for o in outcomes] == [(True, []), (False, ["last_name"]), (False, ["phone"])]
    assert len(state["customers"]) == 1
    (number,) = state["customers"]
    kinds = [e[0] for e in state["events"][number]]
    assert kinds == [CUSTOMER_CREATED, CUSTOMER_UPDATED, CUSTOMER_UPDATED]


def test_each_result_shows_the_customer_as_its_item_left_them(shop):
    results = services.upsert_customers(
        [
            CustomerInput(shop=shop, external_id="9", first_name="Nora"),
            CustomerInput(shop=shop, external_id="9", first_name="Nadja"),
        ]
    )
    assert [r.customer.first_name for r in results] == ["Nora", "Nadja"]
    assert results[0].customer.pk == results[1].customer.pk
    assert Customer.objects.get().first_name == "Nadja"


def test_blank_values_never_erase_and_refusals_do_not_stop_the_others(anna, shop):
    results = services.upsert_customers(
        [
            CustomerInput(email="anna.mueller@example.de", first_name="", phone="0170 1"),
            CustomerInput(email="kaputt", first_name="Kai"),
            CustomerInput(shop=shop, external_id="5", email="anna.mueller@example.de"),
            CustomerInput(shop=shop, external_id="6", email="ANNA.MUELLER@example.de"),
            CustomerInput(last_name=""),
        ]
    )
    assert isinstance(results[0], UpsertResult) and results[0].changed == ["phone"]
    assert "email" in results[1].message_dict
    assert results[2].customer.pk == results[3].customer.pk == anna.pk
    assert isinstance(results[4], CustomerError)
    anna.refresh_from_db()
    assert (anna.first_name, anna.phone) == ("Anna", "0170 1")
    assert set(anna.external_ids.values_list("external_id", flat=True)) == {"5", "6"}
    assert Customer.objects.count() == 1


def test_an_email_taken_by_someone_else_is_refused_even_inside_the_batch(anna, ben, shop):
    results = services.upsert_customers(
        [
            CustomerInput(shop=shop, external_id="1", email="neu@example.de", first_name="Nina"),
            CustomerInput(email="ben.schaefer@example.de", first_name="Ben"),
            CustomerInput(shop=shop, external_id="2", email="neu@example.de", first_name="Nils"),
        ]
    )
    assert results[0].created and not results[1].created
    # "2" is new, so it matches the email of customer "1", created above: same person.
    assert results[2].customer.pk == results[0].customer.pk
    services.link_external_id(anna, shop=shop, external_id="A")
    refused = services.upsert_customers(
        [CustomerInput(shop=shop, external_id="A", email="ben.schaefer@example.de")]
    )
    assert "email" in refused[0].message_dict
    anna.refresh_from_db()
    assert anna.email == "anna.mueller@example.de"


def test_new_customers_get_consecutive_numbers_and_a_constant_number_of_queries(shop):
    small = [
        CustomerInput(shop=shop, external_id=f"s{i}", email=f"s{i}@example.de") for i in range(10)
    ]
    large = [
        CustomerInput(shop=shop, external_id=f"l{i}", email=f"l{i}@example.de", last_name="L")
        for i in range(100)
    ]
    services.upsert_customers([CustomerInput(first_name="Erste")])  # creates the sequence
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            results = services.upsert_customers(batch)
        assert all(r.created for r in results)
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    numbers = sorted(Customer.objects.values_list("number", flat=True))
    assert numbers == list(
        range(services.CUSTOMER_NUMBER_START, services.CUSTOMER_NUMBER_START + 111)
    )
    assert Customer.objects.get(email="l7@example.de").search_last_first == "l"


def test_a_replayed_batch_writes_nothing(shop):
    batch = [
        CustomerInput(shop=shop, external_id=str(i), email=f"k{i}@example.de", first_name="K")
        for i in range(50)
    ]
    services.upsert_customers(batch)
    before = DomainEvent.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        results = services.upsert_customers(batch)
    assert all(not r.created and r.changed == [] for r in results)
    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in ctx
    )
    assert DomainEvent.objects.count() == before


def test_events_are_dispatched_only_after_commit(
    shop, anna, django_capture_on_commit_callbacks, monkeypatch
):
    dispatched = []
    monkeypatch.setattr(events, "dispatch", dispatched.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.upsert_customers(
            [CustomerInput(first_name="Neu"), CustomerInput(email=anna.email, phone="1")],
            event_source="csv",
        )
        assert dispatched == []
    assert len(callbacks) == 2
    assert [(e.kind, e.source) for e in dispatched] == [
        (CUSTOMER_CREATED, "csv"),
        (CUSTOMER_UPDATED, "csv"),
    ]
    assert dispatched[1].customer_id == anna.pk and dispatched[1].payload == {"fields": ["phone"]}


def test_an_external_id_without_its_shop_is_a_programming_error():
    with pytest.raises(ValueError):
        services.upsert_customers([CustomerInput(first_name="A"), CustomerInput(external_id="1")])
    assert not Customer.objects.exists()


def test_an_email_can_pass_from_one_customer_to_another_within_a_batch(anna, ben, shop):
    services.link_external_id(anna, shop=shop, external_id="a")
    services.link_external_id(ben, shop=shop, external_id="b")
    batch = [
        CustomerInput(shop=shop, external_id="a", email="anna.neu@example.de"),
        CustomerInput(shop=shop, external_id="b", email="anna.mueller@example.de"),
        CustomerInput(shop=shop, external_id="c", email="ben.schaefer@example.de"),
    ]
    expected, got = _run_both(batch)
    assert got == expected
    assert set(Customer.objects.values_list("email", flat=True)) == {
        "anna.neu@example.de",
        "anna.mueller@example.de",
        "ben.schaefer@example.de",
    }
