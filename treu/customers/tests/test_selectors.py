from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from treu.commerce.tests.factories import make_order
from treu.customers import selectors, services
from treu.customers.models import Customer, fold
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _search(query: str, **filters) -> list[str]:
    found = selectors.customer_list(selectors.CustomerFilters(query=query, **filters))
    return sorted(c.last_name for c in found)


@pytest.fixture
def people(anna, ben):
    CustomerFactory(first_name="Jürgen", last_name="Weiß", email="jw@posteo.de")
    CustomerFactory(first_name="Mülleria", last_name="Schmidt", email="ms@gmx.de")
    return anna, ben


def test_it_finds_customers_by_name_prefix_with_or_without_umlauts(people):
    assert _search("Müll") == ["Müller", "Schmidt"]
    assert _search("muell") == ["Müller", "Schmidt"]
    assert _search("anna m") == ["Müller"]
    assert _search("weiss") == ["Weiß"]
    assert _search("Müller Anna") == ["Müller"]


def test_it_finds_customers_by_email_and_number(people):
    anna, _ = people
    assert _search("ANNA.MUELLER@") == ["Müller"]
    assert _search(anna.display_number) == ["Müller"]
    assert _search(str(anna.number)) == ["Müller"]
    assert _search("jw@") == ["Weiß"]
    assert _search("anna.muel") == ["Müller"]


def test_it_filters_buyers_by_how_often_they_bought(people, shop):
    anna, ben = people
    make_order(customer=anna, shop=shop)
    make_order(customer=anna, shop=shop)
    make_order(customer=ben, shop=shop)
    assert _search("", buyer="repeat") == ["Müller"]
    assert _search("", buyer="once") == ["Schäfer"]
    assert _search("", buyer="none") == ["Schmidt", "Weiß"]


def test_erased_customers_are_not_listed(people):
    from treu.core import privacy

    privacy.erase_customer(people[0])
    assert "Müller" not in _search("")


def test_the_timeline_is_newest_first_and_pages_backwards(anna, shop, agent):
    now = timezone.now()
    for days in (30, 20, 10):
        make_order(customer=anna, shop=shop, placed_at=now - timedelta(days=days))
    services.add_note(anna, author=agent, text="Neueste Notiz")

    first_page = selectors.customer_timeline(anna, limit=2)
    assert [i.event.kind for i in first_page] == ["customer.note_added", "order.ingested"]
    assert first_page[0].entry.detail == "Neueste Notiz"
    older = selectors.customer_timeline(anna, before_id=first_page[-1].event.pk, limit=10)
    assert len(older) == 2
    assert older[0].event.occurred_at > older[1].event.occurred_at
    assert all(o.entry.url for o in older)


def test_the_timeline_shows_entries_of_apps_it_does_not_know(anna):
    from treu.core import events

    events.register_kind(
        "points.earned",
        label="Punkte gesammelt",
        describe=lambda e: events.TimelineEntry(title=f"+{e.payload['points']} Bohnen"),
    )
    events.publish("points.earned", customer=anna, payload={"points": 42})
    assert selectors.customer_timeline(anna)[0].entry.title == "+42 Bohnen"


def test_possible_duplicates_share_the_name(anna):
    twin = CustomerFactory(first_name="anna", last_name="MÜLLER")
    CustomerFactory(first_name="Anna", last_name="Meier")
    assert list(selectors.possible_duplicates(anna)) == [twin]


class TestSearchProperties(HypothesisTestCase):
    @given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß ", min_size=1, max_size=12))
    @settings(max_examples=40, deadline=None)
    def test_every_customer_is_found_by_a_prefix_of_their_name(self, name):
        name = name.strip() or "x"
        customer = CustomerFactory(first_name=name, last_name="Kaffee")
        prefix = name[: max(1, len(name) // 2)]
        found = selectors.customer_list(selectors.CustomerFilters(query=prefix))
        if fold(prefix).strip():
            assert customer in found
        Customer.objects.filter(pk=customer.pk).delete()


def test_the_customer_base_counts_buyers_and_regulars(anna, ben, shop, django_assert_num_queries):
    CustomerFactory()
    make_order(customer=anna, shop=shop)
    make_order(customer=anna, shop=shop)
    make_order(customer=ben, shop=shop)
    with django_assert_num_queries(1):
        base = selectors.customer_base(new_since=timezone.now() - timedelta(days=1))
    assert (base.total, base.new, base.buyers, base.repeat) == (3, 3, 2, 1)
    assert base.repeat_rate == 0.5
    assert selectors.customer_base(new_since=timezone.now()).new == 0


def test_an_empty_customer_base_has_no_repeat_rate(db):
    assert selectors.customer_base(new_since=timezone.now()).repeat_rate is None


def test_search_hits_are_listed_alphabetically(people):
    found = selectors.customer_list(selectors.CustomerFilters(query="müll"))
    assert [c.last_name for c in found] == ["Müller", "Schmidt"]
    newest = selectors.customer_list(selectors.CustomerFilters(query="müll", ordering="-spent"))
    assert newest.query.order_by == ("-total_spent_cents", "-id")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("anna.schmidt@", "_like"),  # the varchar_pattern_ops index Django adds for unique email
        ("schmi", "customer_search_"),
    ],
)
def test_prefix_searches_can_use_an_index_on_postgresql(query, index):
    from django.db import connection

    CustomerFactory.create_batch(3)
    qs = selectors.customer_list(selectors.CustomerFilters(query=query))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # what the planner picks on big tables
        plan = qs.explain()
    assert index in plan


@pytest.mark.parametrize(
    ("typed", "number"),
    [("42", 42), ("#42", 42), ("K000042", 42), (" k42 ", 42), ("0", None), ("", None),
     ("anna", None), ("42a", None), ("anna@example.de", None)],
)  # fmt: skip
def test_it_reads_a_typed_customer_number(typed, number):
    assert selectors.customer_number_in(typed) == number
