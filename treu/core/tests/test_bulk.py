"""The bulk writers batch ingestion relies on: what they write equals what save() writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import signals
from django.utils import timezone

from treu.core.bulk import combine_values, from_rows, insert_rows
from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
COLUMNS = ("kind", "customer_id", "occurred_at", "recorded_at", "source", "payload")


def _written(customer_id):
    rows = [
        ("customer.created", customer_id, NOW, NOW, "test", {"n": 1}),
        ("customer.updated", None, NOW - timedelta(days=1), NOW, "", {}),
    ]
    with transaction.atomic():
        ids = insert_rows(DomainEvent, COLUMNS, rows)
    return rows, ids


def test_rows_come_back_as_instances_equal_to_loaded_ones():
    anna = CustomerFactory()
    rows, ids = _written(anna.pk)
    built = from_rows(DomainEvent, COLUMNS, rows, ids)
    loaded = list(DomainEvent.objects.filter(pk__in=ids).order_by("pk"))
    assert built == loaded
    for made, read in zip(built, loaded, strict=True):
        assert not made._state.adding and made._state.db == read._state.db
        for name in ("kind", "customer_id", "occurred_at", "source", "payload"):
            assert getattr(made, name) == getattr(read, name)
    assert built[0].customer == anna  # the relation loads like on a queryset's instance
    assert built[1].customer is None


def test_fields_left_out_are_deferred_and_load_on_access():
    rows, ids = _written(None)
    built = from_rows(DomainEvent, COLUMNS[:2], [row[:2] for row in rows], ids)
    assert built[0].get_deferred_fields() == {"occurred_at", "recorded_at", "source", "payload"}
    assert built[0].payload == {"n": 1}


def test_instances_are_built_by_init_when_someone_listens_to_its_signals():
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.kind)

    signals.post_init.connect(listener, sender=DomainEvent)
    try:
        rows, ids = _written(None)
        from_rows(DomainEvent, COLUMNS, rows, ids)
    finally:
        signals.post_init.disconnect(listener, sender=DomainEvent)
    assert seen == ["customer.created", "customer.updated"]


def test_combined_values_fold_into_the_stored_ones():
    empty = CustomerFactory()  # no figures yet: NULL dates, zero counts
    held = CustomerFactory(
        first_order_at=NOW - timedelta(days=10),
        last_order_at=NOW - timedelta(days=5),
        order_count=2,
        total_spent_cents=5000,
    )
    fields = [
        ("first_order_at", "min"), ("last_order_at", "max"), ("order_count", "add"),
        ("total_spent_cents", "add"),
    ]  # fmt: skip
    changed = combine_values(
        Customer,
        fields,
        [
            (empty.pk, NOW - timedelta(days=1), NOW, 2, 1990),
            (held.pk, NOW - timedelta(days=7), NOW - timedelta(days=6), 1, 10),
        ],
    )
    assert changed == 2
    empty.refresh_from_db()
    held.refresh_from_db()
    assert (empty.first_order_at, empty.last_order_at) == (NOW - timedelta(days=1), NOW)
    assert (empty.order_count, empty.total_spent_cents) == (2, 1990)
    # Neither new date is beyond the stored range: the range stays; counts add up.
    assert (held.first_order_at, held.last_order_at) == (
        NOW - timedelta(days=10),
        NOW - timedelta(days=5),
    )
    assert (held.order_count, held.total_spent_cents) == (3, 5010)


def test_an_unknown_way_to_combine_is_refused():
    with pytest.raises(ValueError, match="average"):
        combine_values(Customer, [("order_count", "average")], [(1, 2)])


def test_updated_values_are_stored_exactly_as_given():
    # Integer and datetime columns go to PostgreSQL as the array's text, others as lists.
    from zoneinfo import ZoneInfo

    from treu.core.bulk import update_values

    anna, ben = CustomerFactory(), CustomerFactory(last_order_at=NOW)
    berlin = datetime(2024, 3, 31, 3, 30, 0, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    rows = [
        (anna.pk, berlin, 7, 'Änne "A" {x}, y'),
        (ben.pk, None, 0, "Ben"),
    ]
    assert update_values(Customer, ["last_order_at", "order_count", "first_name"], rows) == 2
    anna.refresh_from_db()
    ben.refresh_from_db()
    assert (anna.last_order_at, anna.order_count, anna.first_name) == (berlin, 7, rows[0][3])
    assert (ben.last_order_at, ben.order_count, ben.first_name) == (None, 0, "Ben")
