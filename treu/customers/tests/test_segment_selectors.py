"""The reads messaging's segments build their rules from (each works for an id or an OuterRef)."""

from __future__ import annotations

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from treu.core.models import DomainEvent
from treu.customers import selectors, services
from treu.customers.tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_segmentable_customers_leave_out_the_erased():
    anna = CustomerFactory()
    CustomerFactory(erased_at=timezone.now())
    assert list(selectors.segmentable_customers()) == [anna]


def test_tag_links_find_customers_with_any_of_the_tags():
    anna, ben = CustomerFactory(), CustomerFactory()
    services.set_tags(anna, names=["Espresso", "Filter"])
    services.set_tags(ben, names=["Filter"])
    espresso = anna.tags.get(name="Espresso").pk
    assert selectors.tag_links(customer=anna.pk, tag_ids=[espresso]).count() == 1
    with_tag = selectors.segmentable_customers().filter(
        Exists(selectors.tag_links(customer=OuterRef("pk"), tag_ids=[espresso]))
    )
    assert list(with_tag) == [anna]


def test_setting_other_tags_publishes_tags_changed_off_the_timeline():
    anna = CustomerFactory()
    services.set_tags(anna, names=["Espresso"])
    services.set_tags(anna, names=["Espresso"])  # no change, no event
    events = DomainEvent.objects.filter(customer=anna, kind="customer.tags_changed")
    assert list(events.values_list("payload", flat=True)) == [{"tags": ["Espresso"]}]
    assert not [
        i for i in selectors.customer_timeline(anna) if i.event.kind.endswith("tags_changed")
    ]


def test_addresses_match_a_postcode_prefix_or_a_city_in_any_case():
    anna = CustomerFactory()
    AddressFactory(customer=anna, postcode="80331", city="München")
    assert selectors.addresses_matching(customer=anna.pk, postcode_prefix="803").exists()
    assert not selectors.addresses_matching(customer=anna.pk, postcode_prefix="1").exists()
    assert selectors.addresses_matching(customer=anna.pk, city="München").exists()
    assert not selectors.addresses_matching(customer=anna.pk, city="Berlin").exists()
    AddressFactory(customer=anna, postcode="10115", city="Berlin")
    assert selectors.addresses_matching(customer=anna.pk, city="bERLIN").exists()
