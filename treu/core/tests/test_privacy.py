from __future__ import annotations

import pytest
from django.core import mail

from treu.commerce.tests.factories import make_order
from treu.core import privacy
from treu.core.models import CapturedMail, DomainEvent
from treu.customers import services as customer_services
from treu.customers.models import Customer
from treu.customers.tests.factories import AddressFactory


def test_every_personal_model_is_registered():
    missing = privacy.unregistered_personal_models()
    assert missing == [], (
        "These models hold personal-looking fields but say nothing about export and erasure; "
        f"register them in their app's privacy.py: {missing}"
    )


def test_the_walk_notices_a_personal_field():
    from django.db import models

    class Diary(models.Model):  # noqa: DJ008
        customer_note = models.TextField()

        class Meta:
            app_label = "core"
            managed = False

    Diary.__module__ = "treu.core.tests"
    try:
        assert ("core.Diary", ["customer_note"]) in privacy.unregistered_personal_models()
    finally:
        from django.apps import apps

        del apps.all_models["core"]["diary"]
        apps.clear_cache()


@pytest.mark.django_db
def test_export_contains_everything_about_the_person(anna, agent, shop, settings):
    settings.EMAIL_BACKEND = "treu.core.mail.CapturingBackend"
    AddressFactory(customer=anna, city="Leipzig")
    customer_services.add_note(anna, author=agent, text="Bestellt immer Espresso.")
    make_order(customer=anna, shop=shop)
    mail.send_mail("Danke!", "Hallo Anna", "shop@example.de", [anna.email])

    exported = privacy.export_customer(anna)

    assert exported["customers.Customer"][0]["email"] == "anna.mueller@example.de"
    assert exported["customers.Address"][0]["city"] == "Leipzig"
    assert exported["customers.Note"][0]["text"] == "Bestellt immer Espresso."
    assert len(exported["commerce.Order"]) == 1
    assert exported["core.CapturedMail"][0]["subject"] == "Danke!"
    assert {e["kind"] for e in exported["core.DomainEvent"]} >= {
        "order.ingested",
        "customer.note_added",
    }


@pytest.mark.django_db
def test_erasure_leaves_no_personal_data_but_keeps_the_books(anna, ben, agent, shop, settings):
    settings.EMAIL_BACKEND = "treu.core.mail.CapturingBackend"
    AddressFactory(customer=anna)
    customer_services.add_note(anna, author=agent, text="Ruft oft an.")
    order = make_order(customer=anna, shop=shop)
    make_order(customer=ben, shop=shop)
    mail.send_mail("Danke!", "Hallo Anna", "shop@example.de", [anna.email])
    mail.send_mail("Danke!", "Hallo Ben", "shop@example.de", [ben.email])

    privacy.erase_customer(anna)

    anna = Customer.objects.get(pk=anna.pk)
    assert (anna.first_name, anna.last_name, anna.email, anna.phone) == ("", "", None, "")
    assert anna.erased_at is not None
    assert not anna.addresses.exists() and not anna.notes.exists()
    assert not DomainEvent.objects.filter(customer=anna).exists()
    assert list(CapturedMail.objects.values_list("to", flat=True)) == [ben.email]
    order.refresh_from_db()
    assert order.customer_id == anna.pk and order.total_cents > 0  # kept for the tax office
    exported = privacy.export_customer(anna)
    assert all(not v for k, v in exported["customers.Customer"][0].items() if k.endswith("name"))
    assert DomainEvent.objects.filter(customer=ben).exists()


def test_anonymising_without_fields_is_refused():
    with pytest.raises(ValueError):
        privacy.register(Customer, customer="self", fields=[], erasure=privacy.Erasure.ANONYMISE)
