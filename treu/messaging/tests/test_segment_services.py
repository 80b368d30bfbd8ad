"""Keeping segment members current: the full refresh, the event-driven update after real
orders, cancellations, points and tag changes, the events they publish, erasure, merging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.commerce.services import cancel_order
from treu.commerce.tests.factories import make_order
from treu.core import events, privacy
from treu.core.models import DomainEvent
from treu.customers import services as customer_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty.events import POINTS_CHANGED
from treu.loyalty.models import Member
from treu.messaging.models import Segment, SegmentMembership
from treu.messaging.segments import selectors, services
from treu.messaging.segments.events import SEGMENT_ENTERED, SEGMENT_LEFT

pytestmark = pytest.mark.django_db


def _rules(*conditions, match="all"):
    return {"match": match, "groups": [{"match": "all", "conditions": list(conditions)}]}


BUYERS = _rules({"field": "order_count", "op": "gte", "value": 1})


def _segment(tree=BUYERS, name="Käufer", **kwargs) -> Segment:
    segment = services.save_segment(name=name, rules_tree=tree, **kwargs)
    services.refresh_segment(segment.pk)
    segment.refresh_from_db()
    return segment


def _members(segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True)
    )


def _segment_events(kind):
    return list(DomainEvent.objects.filter(kind=kind).values_list("customer_id", "payload"))


def test_the_first_fill_publishes_nothing_and_later_refreshes_publish_the_changes():
    anna = CustomerFactory(order_count=2)
    ben = CustomerFactory(order_count=0)
    segment = _segment()
    assert _members(segment) == {anna.pk}
    assert segment.member_count == 1
    assert segment.refreshed_at is not None
    assert not DomainEvent.objects.filter(kind__startswith="segment.").exists()

    Customer = type(anna)
    Customer.objects.filter(pk=anna.pk).update(order_count=0)
    Customer.objects.filter(pk=ben.pk).update(order_count=1)
    assert services.refresh_segment(segment.pk) == services.Changes(entered=1, left=1)
    payload = {"segment_id": segment.pk, "segment": "Käufer"}
    assert _segment_events(SEGMENT_ENTERED) == [(ben.pk, payload)]
    assert _segment_events(SEGMENT_LEFT) == [(anna.pk, payload)]
    assert services.refresh_segment(segment.pk) == services.Changes(0, 0)


def test_a_member_keeps_the_moment_they_entered():
    anna = CustomerFactory(order_count=2)
    segment = _segment()
    since = SegmentMembership.objects.get(customer=anna).since
    services.refresh_segment(segment.pk, now=timezone.now() + timedelta(days=3))
    assert SegmentMembership.objects.get(customer=anna).since == since


def test_erased_customers_never_belong():
    anna = CustomerFactory(order_count=2)
    gone = CustomerFactory(order_count=5, erased_at=timezone.now())
    segment = _segment(_rules())  # no conditions: everybody
    assert _members(segment) == {anna.pk}
    services.update_memberships([gone.pk])
    assert _members(segment) == {anna.pk}


def test_time_based_rules_move_with_the_nightly_refresh():
    now = timezone.now()
    anna = CustomerFactory(order_count=1, last_order_at=now - timedelta(days=80))
    segment = _segment(_rules({"field": "last_order", "op": "within", "value": 90}))
    assert _members(segment) == {anna.pk}
    services.refresh_all_segments(now=now + timedelta(days=11))
    assert _members(segment) == set()


def test_inactive_segments_are_left_alone():
    anna = CustomerFactory(order_count=2)
    segment = _segment(active=False)
    assert segment.refreshed_at is None
    assert services.refresh_segment(segment.pk) is None
    services.update_memberships([anna.pk])
    assert _members(segment) == set()


def test_a_new_order_puts_its_customer_in_the_segment_at_once(django_capture_on_commit_callbacks):
    anna = CustomerFactory()
    segment = _segment(_rules({"field": "total_spent", "op": "gte", "value": 2_000}))
    assert _members(segment) == set()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(customer=anna, lines=[(2, 1_490, 700)])
    assert _members(segment) == {anna.pk}
    assert _segment_events(SEGMENT_ENTERED) == [
        (anna.pk, {"segment_id": segment.pk, "segment": "Käufer"})
    ]
    segment.refresh_from_db()
    assert segment.member_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order)
    assert _members(segment) == set()
    assert [c for c, _p in _segment_events(SEGMENT_LEFT)] == [anna.pk]


def test_a_bought_product_counts_as_soon_as_the_order_is_in(django_capture_on_commit_callbacks):
    from treu.commerce.tests.factories import ProductFactory, ShopFactory

    product = ProductFactory(sku="T-1")  # make_order's first line carries SKU T-1
    anna = CustomerFactory()
    segment = _segment(_rules({"field": "products", "op": "in", "value": [str(product.pk)]}))
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=anna, shop=ShopFactory())
    assert _members(segment) == {anna.pk}


def test_points_and_tag_changes_update_memberships(django_capture_on_commit_callbacks):
    anna = CustomerFactory()
    rich = _segment(_rules({"field": "points_balance", "op": "gte", "value": 100}), name="Punkte")
    with django_capture_on_commit_callbacks(execute=True):
        Member.objects.create(customer=anna, joined_at=timezone.now(), points_balance=150)
        events.publish(POINTS_CHANGED, customer=anna, payload={"balance": 150})
    assert _members(rich) == {anna.pk}

    with django_capture_on_commit_callbacks(execute=True):
        customer_services.set_tags(anna, names=["Espresso"])
    tag_id = anna.tags.get().pk
    espresso = _segment(_rules({"field": "tags", "op": "in", "value": [tag_id]}), name="Espresso")
    assert _members(espresso) == {anna.pk}
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.set_tags(anna, names=[])
    assert _members(espresso) == set()


def test_the_event_driven_update_reads_one_query_per_segment(django_assert_max_num_queries):
    customers = [CustomerFactory(order_count=n) for n in range(5)]
    for n in range(3):
        _segment(_rules({"field": "order_count", "op": "gte", "value": n + 1}), name=f"S{n}")
    ids = [c.pk for c in customers]
    SegmentMembership.objects.all().delete()  # everybody "enters" again
    Segment.objects.update(member_count=0)
    assert selectors.any_active_segment()  # asked once per process every few seconds
    # savepoint, lock segments, read stored memberships, 3 × (judge, count), one insert,
    # the events (ids + insert on SQLite, COPY on PostgreSQL), release savepoint
    with django_assert_max_num_queries(13):
        changes = services.update_memberships(ids)
    assert changes == services.Changes(entered=4 + 3 + 2, left=0)


def test_without_segments_an_order_costs_segments_no_query(django_assert_num_queries):
    anna = CustomerFactory(order_count=1)
    assert not selectors.any_active_segment()
    with django_assert_num_queries(0):
        assert services.update_memberships([anna.pk]) == services.Changes(0, 0)
    _segment()  # saving forgets the answer: the next update sees the segment
    Segment.objects.update(member_count=0)
    SegmentMembership.objects.all().delete()
    assert services.update_memberships([anna.pk]) == services.Changes(1, 0)


def test_merging_drops_the_duplicates_memberships_and_judges_the_survivor(
    django_capture_on_commit_callbacks,
):
    survivor = CustomerFactory(order_count=0)
    duplicate = CustomerFactory(order_count=1)
    segment = _segment()
    assert _members(segment) == {duplicate.pk}
    with django_capture_on_commit_callbacks(execute=True):
        make_order(customer=duplicate)
        customer_services.merge_customers(survivor=survivor, duplicate=duplicate)
    assert _members(segment) == {survivor.pk}


def test_erasing_a_customer_removes_their_memberships():
    anna = CustomerFactory(order_count=1)
    segment = _segment()
    privacy.erase_customer(anna)
    assert _members(segment) == set()


def test_deleting_a_segment_removes_its_members():
    CustomerFactory(order_count=1)
    segment = _segment()
    services.delete_segment(segment)
    assert not Segment.objects.exists()
    assert not SegmentMembership.objects.exists()


def test_saving_refuses_a_blank_or_taken_name_and_bad_rules_writing_nothing():
    _segment(name="Käufer")
    with pytest.raises(services.SegmentError) as caught:
        services.save_segment(name="  käufer ", rules_tree=BUYERS)
    assert caught.value.message_dict == {"name": ["Ein Segment mit diesem Namen gibt es schon."]}
    with pytest.raises(services.SegmentError) as caught:
        services.save_segment(name=" ", rules_tree={"groups": 1})
    assert caught.value.message_dict == {
        "name": ["Bitte dem Segment einen Namen geben."],
        "rules": ["Die Gruppen müssen eine Liste sein."],
    }
    assert Segment.objects.count() == 1


def test_the_nightly_task_refreshes_every_active_segment():
    from treu.messaging.segments import tasks

    anna = CustomerFactory(order_count=1)
    segment = Segment.objects.create(name="Nachts", rules=services.rules.normalise(BUYERS))
    Segment.objects.create(name="Aus", rules=services.rules.normalise(BUYERS), active=False)
    tasks.refresh_all_segments_nightly.call_local()
    assert _members(segment) == {anna.pk}
    assert SegmentMembership.objects.count() == 1


def test_a_segment_whose_field_is_gone_is_skipped_not_emptied(caplog):
    anna = CustomerFactory(order_count=1)
    segment = _segment()
    gone = _rules({"field": "from_an_uninstalled_app", "op": "gte", "value": 1})
    Segment.objects.filter(pk=segment.pk).update(rules={"version": 1, **gone})
    assert services.refresh_segment(segment.pk) is None
    assert services.update_memberships([anna.pk]) == services.Changes(0, 0)
    assert _members(segment) == {anna.pk}
    assert "no longer compile" in caplog.text
