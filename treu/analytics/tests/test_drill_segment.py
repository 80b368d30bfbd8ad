"""The customers behind a number become a segment in one click (a fixed list)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from treu.analytics.tests.helpers import berlin, order, recompute
from treu.customers.services import merge_customers
from treu.customers.tests.factories import CustomerFactory
from treu.messaging.models import CustomerList, CustomerListEntry, Segment, SegmentMembership
from treu.messaging.segments import rules
from treu.messaging.segments import services as segment_services

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 2)
BUYERS_OF_MAY = {"metric": "buyers", "month": "2025-05", "period": "1"}


@pytest.fixture
def shop(db):
    anna, ben, cleo = (CustomerFactory() for _ in range(3))
    order(anna, berlin(2025, 5, 3), 2500)
    order(ben, berlin(2025, 5, 9), 4000)
    order(cleo, berlin(2025, 3, 9), 1500)
    recompute(NOW)
    return anna, ben, cleo


def to_segment(client, query, **data):
    url = (
        reverse("analytics:customers_to_segment")
        + "?"
        + "&".join(f"{k}={v}" for k, v in query.items())
    )
    return client.post(url, data)


def test_the_drill_list_becomes_a_segment_of_exactly_those_customers(client_of, marketer, shop):
    anna, ben, cleo = shop
    client = client_of(marketer)
    page = client.get(reverse("analytics:customers"), BUYERS_OF_MAY).content.decode()
    assert 'id="to-segment"' in page and "Als Segment speichern" in page
    response = to_segment(client, BUYERS_OF_MAY)
    segment = Segment.objects.get()
    assert response["Location"] == reverse("messaging:segment_detail", args=[segment.pk])
    assert "Mai 2025" in segment.name
    assert set(rules.members(segment.rules).values_list("pk", flat=True)) == {anna.pk, ben.pk}
    customer_list = CustomerList.objects.get()
    assert (customer_list.size, customer_list.source) == (2, "metric=buyers&month=2025-05&period=1")
    # The list is fixed: a later order of cleo's in May does not add her.
    order(cleo, berlin(2025, 5, 20), 900)
    segment_services.refresh_segment(segment.pk, now=NOW + timedelta(days=1))
    members = SegmentMembership.objects.filter(segment=segment).values_list(
        "customer_id", flat=True
    )
    assert set(members) == {anna.pk, ben.pk}


def test_the_list_can_be_narrowed_like_any_rule(shop):
    anna, ben, _ = shop
    from treu.analytics import selectors
    from treu.messaging import services

    segment = services.segment_from_customers(
        name="Mai-Käufer", customers=selectors.drill_rows(selectors.drill(BUYERS_OF_MAY))
    )
    tree = dict(segment.rules)
    tree["groups"][0]["conditions"].append({"field": "total_spent", "op": "gte", "value": 3000})
    assert list(rules.members(rules.normalise(tree)).values_list("pk", flat=True)) == [ben.pk]
    out = {"field": "customer_list", "op": "not_in", "value": [CustomerList.objects.get().pk]}
    tree = {"version": 1, "match": "all", "groups": [{"match": "all", "conditions": [out]}]}
    assert anna.pk not in rules.members(rules.normalise(tree)).values_list("pk", flat=True)


def test_a_taken_name_is_explained_and_writes_nothing(client_of, marketer, shop):
    client = client_of(marketer)
    to_segment(client, BUYERS_OF_MAY, name="Mai")
    response = to_segment(client, BUYERS_OF_MAY, name="Mai")
    assert response.status_code == 302 and "metric=buyers" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Ein Segment mit diesem Namen gibt es schon." in page
    assert (Segment.objects.count(), CustomerList.objects.count()) == (1, 1)


def test_who_may_not_build_segments_gets_no_button_and_403(client_of, agent, owner, shop):
    # Support sees no analytics at all; a bad list is a 404 before anything is written.
    assert to_segment(client_of(agent), BUYERS_OF_MAY).status_code == 403
    assert to_segment(client_of(owner), {"metric": "nonsense"}).status_code == 404
    assert not CustomerList.objects.exists()


def test_merging_and_erasing_keep_the_lists_true(shop):
    anna, ben, _ = shop
    from treu.analytics import selectors
    from treu.core import privacy
    from treu.messaging import services

    services.segment_from_customers(
        name="Mai", customers=selectors.drill_rows(selectors.drill(BUYERS_OF_MAY))
    )
    duplicate = CustomerFactory()
    customer_list = CustomerList.objects.get()
    CustomerListEntry.objects.create(customer_list=customer_list, customer=duplicate)
    merge_customers(survivor=ben, duplicate=duplicate)
    assert sorted(customer_list.entries.values_list("customer_id", flat=True)) == sorted(
        [anna.pk, ben.pk]
    )
    privacy.erase_customer(anna)
    assert list(customer_list.entries.values_list("customer_id", flat=True)) == [ben.pk]
