from __future__ import annotations

import pytest
from django.utils import translation

from treu.core.models import DomainEvent
from treu.customers.forms import CustomerFilterForm, CustomerForm, MergePickForm
from treu.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_the_edit_form_starts_with_the_customers_details(anna):
    anna.tags.create(name="Espresso")
    form = CustomerForm(customer=anna)
    assert form.initial["email"] == "anna.mueller@example.de"
    assert form.initial["tags"] == "Espresso"


def test_a_refused_email_lands_on_the_email_field_and_nothing_is_written(anna, ben):
    form = CustomerForm(
        {"first_name": "Anna", "last_name": "Müller", "email": ben.email, "language": "de"},
        customer=anna,
    )
    assert form.is_valid()
    assert form.save() is None
    assert list(form.errors) == ["email"]
    anna.refresh_from_db()
    assert anna.email == "anna.mueller@example.de"
    assert not DomainEvent.objects.filter(kind="customer.updated").exists()


def test_a_refused_edit_leaves_the_callers_customer_unchanged(anna, ben):
    form = CustomerForm(
        {"first_name": "Geändert", "email": ben.email, "language": "de"}, customer=anna
    )
    assert form.is_valid() and form.save() is None
    assert anna.first_name == "Anna"


def test_field_errors_are_german_when_the_language_is_german(anna):
    with translation.override("de"):
        form = CustomerForm({"email": "kaputt", "language": "de"}, customer=anna)
        assert not form.is_valid()
        # Django's own German catalog: "Bitte gültige E-Mail-Adresse eingeben."
        assert "E-Mail" in form.errors["email"][0]


def test_tags_are_split_trimmed_and_deduplicated():
    form = CustomerForm({"first_name": "X", "language": "de", "tags": " Bio, Espresso ,Bio,, "})
    assert form.is_valid()
    assert form.cleaned_data["tags"] == ["Bio", "Espresso"]


def test_creating_through_the_form_writes_a_customer_and_its_tags():
    form = CustomerForm({"last_name": "Weiß", "language": "de", "tags": "Neu"})
    assert form.is_valid()
    customer = form.save()
    assert customer.pk and list(customer.tags.values_list("name", flat=True)) == ["Neu"]
    assert Customer.objects.count() == 1


def test_the_filter_form_turns_dates_into_whole_berlin_days():
    form = CustomerFilterForm({"last_order_from": "2025-03-01", "last_order_until": "2025-03-31"})
    filters = form.filters()
    assert filters.last_order_after.isoformat() == "2025-03-01T00:00:00+01:00"
    assert filters.last_order_before.isoformat() == "2025-04-01T00:00:00+02:00"


def test_the_filter_form_ignores_an_unknown_ordering():
    assert CustomerFilterForm({"ordering": "password"}).filters().ordering == "-created"


@pytest.mark.parametrize("typed", ["K{n:06d}", "{n}", "k{n}", "#{n}", " 0{n} "])
def test_the_merge_picker_reads_every_way_of_writing_a_number(anna, ben, typed):
    form = MergePickForm({"duplicate": typed.format(n=ben.number)}, survivor=anna)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["duplicate"] == ben
