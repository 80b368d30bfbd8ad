"""`__any_of` finds exactly what `__in` finds; on PostgreSQL the list is one parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    customers = CustomerFactory.create_batch(4)
    for customer in customers[:3]:
        _event(customer)
    _event(None)
    return customers


def _event(customer):
    DomainEvent.objects.create(
        kind="customer.created", customer=customer, occurred_at=timezone.now(), payload={}
    )


def _same(model, **lookup):
    """The rows of `field__any_of=values` and of `field__in=values` (one lookup given)."""
    ((name, values),) = lookup.items()
    got = set(model.objects.filter(**{f"{name}__any_of": values}).values_list("pk", flat=True))
    want = set(model.objects.filter(**{f"{name}__in": values}).values_list("pk", flat=True))
    assert got == want
    return got


def test_it_finds_what_in_finds(people):
    anna, ben, clara, dora = people
    assert _same(Customer, pk=[anna.pk, ben.pk, 10**9]) == {anna.pk, ben.pk}
    assert _same(Customer, pk={clara.pk}) == {clara.pk}
    assert _same(Customer, pk=(anna.pk, anna.pk, None)) == {anna.pk}  # duplicates, NULL
    assert _same(Customer, email=[anna.email, dora.email, "niemand@example.de"]) == {
        anna.pk,
        dora.pk,
    }
    # Foreign keys, by id or by instance; and strings where the column holds integers.
    assert len(_same(DomainEvent, customer_id=[anna.pk, ben.pk])) == 2
    assert len(_same(DomainEvent, customer=[clara])) == 1
    assert _same(Customer, pk=[str(ben.pk)]) == {ben.pk}
    # A subquery is handed to IN as it is.
    assert _same(Customer, pk=Customer.objects.filter(pk=dora.pk).values("pk")) == {dora.pk}


def test_an_empty_list_finds_nothing_without_asking(people):
    with CaptureQueriesContext(connection) as queries:
        assert list(Customer.objects.filter(pk__any_of=[])) == []
        assert list(Customer.objects.filter(pk__any_of=[None])) == []
    assert len(queries) == 0
    assert Customer.objects.exclude(pk__any_of=[people[0].pk]).count() == 3


def test_a_value_longer_than_the_column_does_not_match_its_prefix():
    # A cast to the column's varchar(254)[] would cut the value to a stored address.
    stored = "a" * 240 + "@example.de"
    CustomerFactory(email=stored)
    assert _same(Customer, email=[stored + "x" * 10]) == set()
    assert len(_same(Customer, email=[stored])) == 1


@pytest.mark.postgres
def test_on_postgresql_the_list_is_one_array_parameter(people):
    ids = [c.pk for c in people] + list(range(10**6, 10**6 + 1000))
    sql, params = Customer.objects.filter(pk__any_of=ids).values("pk").query.sql_with_params()
    assert '"customers_customer"."id" = ANY(%s::bigint[])' in sql
    assert params == ("{" + ",".join(map(str, ids)) + "}",)
    sql, params = (
        DomainEvent.objects.filter(customer_id__any_of=ids[:2]).values("pk").query
    ).sql_with_params()
    assert "= ANY(%s::bigint[])" in sql and len(params) == 1
    sql, params = Customer.objects.filter(email__any_of=["x@example.de"]).query.sql_with_params()
    assert "= ANY(%s::text[])" in sql and params == (["x@example.de"],)
