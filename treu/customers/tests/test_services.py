from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel
from django.utils import translation

from treu.commerce.tests.factories import ShopFactory, make_order
from treu.core.models import DomainEvent
from treu.customers import services
from treu.customers.models import Customer, ExternalId, Tag
from treu.customers.tests.factories import AddressFactory, CustomerFactory, NoteFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_customer_with_a_number_and_an_event():
    customer = services.create_customer(
        first_name="Jürgen", last_name="Weiß", email=" Juergen@GMX.de "
    )
    assert customer.email == "juergen@gmx.de"
    assert customer.number >= services.CUSTOMER_NUMBER_START
    assert customer.search_last_first == "weiss juergen"
    assert DomainEvent.objects.filter(customer=customer, kind="customer.created").count() == 1
    second = services.create_customer(email="zweite@example.de")
    assert second.number == customer.number + 1


def test_it_refuses_a_second_customer_with_the_same_email_in_any_case():
    services.create_customer(email="anna@example.de")
    with translation.override("de"), pytest.raises(services.CustomerError) as excinfo:
        services.create_customer(email="ANNA@example.de")
    assert "email" in excinfo.value.message_dict
    assert Customer.objects.count() == 1


def test_the_database_also_refuses_duplicate_and_mixed_case_emails(anna):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.bulk_create([Customer(number=1, email=anna.email)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.bulk_create([Customer(number=2, email="Gross@Example.de")])


def test_customers_without_email_may_coexist():
    services.create_customer(first_name="Laden", last_name="Kundin")
    services.create_customer(first_name="Laden", last_name="Kunde")
    assert Customer.objects.filter(email__isnull=True).count() == 2


@pytest.mark.parametrize("email", ["kein-at-zeichen", "a@b", "zwei@@example.de"])
def test_it_refuses_an_invalid_email(email):
    with pytest.raises(services.CustomerError) as excinfo:
        services.create_customer(first_name="X", email=email)
    assert "email" in excinfo.value.message_dict
    assert not Customer.objects.exists()


def test_it_refuses_overlong_names_with_a_field_error():
    with pytest.raises(services.CustomerError) as excinfo:
        services.create_customer(first_name="x" * 151, email="lang@example.de")
    assert "first_name" in excinfo.value.message_dict
    assert not Customer.objects.exists()


def test_it_refuses_a_customer_without_name_or_email():
    with pytest.raises(services.CustomerError):
        services.create_customer(first_name="  ")


def test_update_records_which_fields_changed(anna):
    changed = services.update_customer(anna, phone="+49 30 123456", birthday=date(1990, 5, 17))
    assert set(changed) == {"phone", "birthday"}
    event = DomainEvent.objects.get(customer=anna, kind="customer.updated")
    assert set(event.payload["fields"]) == {"phone", "birthday"}
    assert services.update_customer(anna, phone="+49 30 123456") == []


def test_update_refuses_taking_another_customers_email(anna, ben):
    with pytest.raises(services.CustomerError):
        services.update_customer(anna, email=ben.email.upper())
    anna.refresh_from_db()
    assert anna.email == "anna.mueller@example.de"


def test_update_refuses_fields_that_are_not_editable(anna):
    with pytest.raises(TypeError):
        services.update_customer(anna, number=1)


def test_a_note_is_kept_and_shown_on_the_timeline(anna, agent):
    note = services.add_note(anna, author=agent, text="  Mag es fruchtig. ")
    assert note.text == "Mag es fruchtig."
    event = DomainEvent.objects.get(kind="customer.note_added")
    assert event.payload["text"] == "Mag es fruchtig." and event.payload["author"] == "support"
    with pytest.raises(services.CustomerError):
        services.add_note(anna, author=agent, text="   ")


def test_an_external_id_belongs_to_one_customer(anna, ben, shop):
    services.link_external_id(anna, shop=shop, external_id="gid://shopify/Customer/1")
    services.link_external_id(anna, shop=shop, external_id="gid://shopify/Customer/1")
    with pytest.raises(services.CustomerError):
        services.link_external_id(ben, shop=shop, external_id="gid://shopify/Customer/1")
    assert ExternalId.objects.count() == 1


def _rows_pointing_at(customer: Customer) -> dict[str, int]:
    """Count rows in every model of every app that reference this customer."""
    counts = {}
    for rel in Customer._meta.get_fields(include_hidden=True):
        if isinstance(rel, ForeignObjectRel) and not rel.many_to_many:
            model = rel.related_model
            n = model._base_manager.filter(**{rel.field.name: customer.pk}).count()
            if n:
                counts[model._meta.label] = n
    return counts


def test_merge_moves_everything_and_deletes_the_duplicate(anna, agent):
    online, store = ShopFactory(code="online"), ShopFactory(code="laden", name="Laden", kind="pos")
    duplicate = CustomerFactory(
        first_name="Anna", last_name="Müller", email="a.mueller@web.de", phone="0341 1"
    )
    shared_tag, own_tag = Tag.objects.create(name="VIP"), Tag.objects.create(name="Laden")
    anna.tags.add(shared_tag)
    duplicate.tags.add(shared_tag, own_tag)
    AddressFactory(customer=duplicate)
    NoteFactory(customer=duplicate)
    services.link_external_id(duplicate, shop=store, external_id="POS-77")
    make_order(customer=anna, shop=online)
    make_order(customer=duplicate, shop=store)
    make_order(customer=duplicate, shop=store)
    before = _rows_pointing_at(duplicate)
    assert {"commerce.Order", "customers.Address", "customers.Note", "core.DomainEvent"} <= set(
        before
    )

    result = services.merge_customers(survivor=anna, duplicate=duplicate, by=agent)

    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert _rows_pointing_at(duplicate) == {}
    survivor = result.survivor
    assert survivor.phone == "0341 1"  # filled from the duplicate
    assert survivor.email == "anna.mueller@example.de"  # the survivor's own email wins
    assert set(survivor.tags.values_list("name", flat=True)) == {"VIP", "Laden"}
    assert survivor.orders.count() == 3
    assert survivor.external_ids.get().external_id == "POS-77"
    merged = DomainEvent.objects.get(customer=survivor, kind="customer.merged")
    assert merged.payload["duplicate_email"] == "a.mueller@web.de"


def test_merge_updates_the_order_summary_after_commit(
    anna, shop, django_capture_on_commit_callbacks
):
    duplicate = CustomerFactory()
    make_order(customer=anna, shop=shop, lines=((1, 1000, 700),))
    make_order(customer=duplicate, shop=shop, lines=((2, 1000, 700),))
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_customers(survivor=anna, duplicate=duplicate)
    anna.refresh_from_db()
    assert (anna.order_count, anna.total_spent_cents) == (2, 3000)


def test_merge_refuses_merging_a_customer_with_itself(anna):
    with pytest.raises(services.CustomerError):
        services.merge_customers(survivor=anna, duplicate=anna)


def test_merge_takes_the_email_of_the_duplicate_when_the_survivor_has_none(anna):
    survivor = services.create_customer(first_name="Anna", last_name="Müller")
    services.merge_customers(survivor=survivor, duplicate=anna)
    survivor.refresh_from_db()
    assert survivor.email == "anna.mueller@example.de"


def test_a_refused_update_leaves_the_callers_object_as_it_was(anna, ben):
    with pytest.raises(services.CustomerError):
        services.update_customer(anna, first_name="Annika", email=ben.email)
    assert (anna.first_name, anna.email) == ("Anna", "anna.mueller@example.de")
    with pytest.raises(services.CustomerError) as excinfo:
        services.update_customer(anna, first_name="x" * 500)
    assert "first_name" in excinfo.value.message_dict
    assert anna.first_name == "Anna"


def test_upsert_finds_the_customer_by_shop_id_then_by_email(anna, shop):
    first = services.upsert_customer(
        shop=shop, external_id="42", email="ANNA.MUELLER@example.de", phone="0341 9"
    )
    assert not first.created and first.customer == anna and first.changed == ["phone"]
    by_id = services.upsert_customer(shop=shop, external_id="42", email="neu@example.de")
    assert by_id.customer == anna and by_id.changed == ["email"]
    again = services.upsert_customer(shop=shop, external_id="42", first_name="", last_name="Müller")
    assert again.changed == []  # blanks never erase what we know


def test_upsert_creates_an_unknown_customer_with_the_shop_link(shop):
    result = services.upsert_customer(
        shop=shop, external_id="7", email="neu@example.de", first_name="Nele"
    )
    assert result.created
    assert result.customer.external_ids.get().external_id == "7"
    assert result.customer.source_shop == shop
    assert services.upsert_customer(shop=shop, external_id="7").customer == result.customer


def test_upsert_refuses_bad_data_and_writes_nothing(shop):
    with pytest.raises(services.CustomerError):
        services.upsert_customer(shop=shop, external_id="8", email="kaputt")
    assert not Customer.objects.exists() and not ExternalId.objects.exists()
    with pytest.raises(ValueError):
        services.upsert_customer(external_id="9", email="a@example.de")


def test_a_customer_batch_reports_each_and_refusals_do_not_stop_the_others(anna, shop):
    batch = [
        services.CustomerInput(shop=shop, external_id="1", email="anna.mueller@example.de"),
        services.CustomerInput(shop=shop, external_id="2", email="kaputt"),
        services.CustomerInput(
            shop=shop, external_id="3", email="neu@example.de", first_name="Nele"
        ),
    ]
    results = services.upsert_customers(batch)
    assert results[0].customer == anna and not results[0].created
    assert isinstance(results[1], services.CustomerError)
    assert results[2].created and results[2].customer.first_name == "Nele"
    assert Customer.objects.count() == 2
