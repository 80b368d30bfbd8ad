from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.commerce.tests.factories import make_order
from treu.core.models import DomainEvent
from treu.customers import services
from treu.customers.models import Customer, Note, Tag
from treu.customers.tests.factories import AddressFactory, CustomerFactory, NoteFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]


def _pages(customer):
    """(url, method, roles that may use it)."""
    detail = reverse("customers:detail", args=[customer.pk])
    return {
        "list": (reverse("customers:list"), "get", {"owner", "marketer", "agent"}),
        "detail": (detail, "get", {"owner", "marketer", "agent"}),
        "create": (reverse("customers:create"), "get", {"owner", "agent"}),
        "edit": (reverse("customers:edit", args=[customer.pk]), "get", {"owner", "agent"}),
        "add_note": (reverse("customers:add_note", args=[customer.pk]), "post", {"owner", "agent"}),
        "merge": (reverse("customers:merge", args=[customer.pk]), "get", {"owner"}),
    }


@pytest.mark.parametrize("page", ["list", "detail", "create", "edit", "add_note", "merge"])
def test_it_sends_anonymous_visitors_to_the_login(client, anna, page):
    url, method, _ = _pages(anna)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", ["list", "detail", "create", "edit", "add_note", "merge"])
def test_it_refuses_users_without_a_role(client_of, outsider, anna, page):
    url, method, _ = _pages(anna)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["list", "detail", "create", "edit", "add_note", "merge"])
def test_each_role_reaches_exactly_the_customer_pages_it_may_use(
    client_of, request, anna, ben, page, role
):
    url, method, allowed = _pages(anna)[page]
    data = {"text": "Ruft lieber an."} if page == "add_note" else {}
    if page == "merge":
        url += f"?duplicate={ben.number}"
    response = getattr(client_of(request.getfixturevalue(role)), method)(url, data)
    if role in allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


# -- List ---------------------------------------------------------------------------------------


def test_the_list_shows_number_name_email_and_order_figures(client_of, agent, anna, shop):
    make_order(customer=anna, shop=shop, lines=((2, 1250, 700),))
    content = client_of(agent).get(reverse("customers:list")).content.decode()
    anna.refresh_from_db()
    assert anna.display_number in content
    assert "Anna Müller" in content
    assert "anna.mueller@example.de" in content
    assert "25,00\u00a0€" in content


@pytest.mark.parametrize(
    "query", ["mül", "MUELLER", "anna.mueller@", "muell", "anna m"], ids=lambda q: q
)
def test_the_search_finds_a_customer_by_name_or_email_prefix(client_of, agent, anna, ben, query):
    page = client_of(agent).get(reverse("customers:list"), {"q": query}).context["page"]
    assert list(page.object_list) == [anna]


def test_the_search_finds_a_customer_by_number(client_of, agent, anna, ben):
    client = client_of(agent)
    for query in (anna.display_number, str(anna.number), anna.display_number.lower()):
        page = client.get(reverse("customers:list"), {"q": query}).context["page"]
        assert list(page.object_list) == [anna]


def test_the_filters_narrow_the_list(client_of, agent, anna, ben, shop):
    make_order(customer=anna, shop=shop)
    make_order(customer=anna, shop=shop)
    make_order(customer=ben, shop=shop, placed_at=timezone.now() - timedelta(days=100))
    services.set_tags(ben, names=["Großhandel"])
    client = client_of(agent)

    def listed(**params):
        return set(client.get(reverse("customers:list"), params).context["page"].object_list)

    assert listed(buyer="repeat") == {anna}
    assert listed(buyer="once") == {ben}
    assert listed(tag="Großhandel") == {ben}
    since = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert listed(last_order_from=since) == {anna}
    assert listed(last_order_until=since) == {ben}
    assert listed(ordering="-spent")  # every ordering is accepted


def test_a_mistyped_filter_shows_its_error_and_keeps_the_list(client_of, agent, anna):
    response = client_of(agent).get(reverse("customers:list"), {"last_order_from": "gestern"})
    assert response.status_code == 200
    assert "last_order_from" in response.context["form"].errors
    assert list(response.context["page"].object_list) == [anna]


def test_the_list_pages_by_50_and_keeps_the_search_in_the_page_links(client_of, agent):
    CustomerFactory.create_batch(55, last_name="Meier")
    response = client_of(agent).get(reverse("customers:list"), {"q": "meier", "buyer": "none"})
    page = response.context["page"]
    assert len(page.object_list) == 50
    assert page.paginator.count == 55
    assert "?q=meier&amp;buyer=none&amp;page=2" in response.content.decode()
    second = client_of(agent).get(reverse("customers:list"), {"q": "meier", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_the_list_needs_the_same_few_queries_for_many_customers(
    client_of, agent, django_assert_num_queries
):
    customers = CustomerFactory.create_batch(60)
    tag = Tag.objects.create(name="Stammkunde")
    for c in customers[:10]:
        c.tags.add(tag)
    client = client_of(agent)
    client.get(reverse("customers:list"))
    # session, user, groups, permissions (user + group), tags for the filter, count, page
    with django_assert_num_queries(8):
        response = client.get(reverse("customers:list"), {"tag": "Stammkunde", "page": 1})
    assert response.status_code == 200


# -- 360° page ----------------------------------------------------------------------------------


def test_the_customer_page_shows_contact_tags_addresses_orders_notes_and_timeline(
    client_of, agent, anna, shop
):
    AddressFactory(customer=anna, street="Kaffeeweg 7", postcode="20095", city="Hamburg")
    services.set_tags(anna, names=["Espresso"])
    order = make_order(customer=anna, shop=shop, lines=((1, 1990, 700),))
    services.add_note(anna, author=agent, text="Mag helle Röstungen.")
    response = client_of(agent).get(reverse("customers:detail", args=[anna.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    for text in ("Anna Müller", anna.display_number, "Espresso", "Kaffeeweg 7", order.number,
                 "Mag helle Röstungen.", "19,90\u00a0€"):  # fmt: skip
        assert text in content
    titles = [item.entry.title for item in response.context["timeline"]]
    assert len(titles) == 2  # the order and the note, newest first
    assert response.context["timeline"][0].event.kind == "customer.note_added"


def test_the_timeline_loads_older_entries_page_by_page(client_of, agent, anna, shop):
    for i in range(35):
        make_order(customer=anna, shop=shop, placed_at=timezone.now() - timedelta(days=i + 1))
    client = client_of(agent)
    first = client.get(reverse("customers:detail", args=[anna.pk]))
    older_id = first.context["timeline_older"]
    assert len(first.context["timeline"]) == 30 and older_id
    assert f"?before={older_id}" in first.content.decode()
    second = client.get(reverse("customers:detail", args=[anna.pk]), {"before": older_id})
    assert len(second.context["timeline"]) == 5
    assert second.context["timeline_older"] is None
    seen = {i.event.pk for i in first.context["timeline"]}
    assert seen.isdisjoint({i.event.pk for i in second.context["timeline"]})


def test_marketing_sees_no_notes(client_of, marketer, anna):
    NoteFactory(customer=anna, text="Intern: zahlt spät.")
    response = client_of(marketer).get(reverse("customers:detail", args=[anna.pk]))
    assert response.context["notes"] is None
    assert "zahlt spät" not in response.content.decode()


def test_the_customer_page_needs_a_fixed_number_of_queries(
    client_of, owner, anna, shop, django_assert_max_num_queries
):
    from treu.loyalty import services as loyalty
    from treu.messaging import services as messaging

    loyalty.update_program_settings(membership="opt_in")
    loyalty.update_tier_settings(basis="spend", period="rolling")
    loyalty.save_tier(name="Gold", rank=1, threshold=50_000)
    loyalty.join_program(customer=anna)
    messaging.subscribe_to_newsletter(anna, source="page", ip="198.51.100.7")
    for _ in range(5):
        make_order(customer=anna, shop=shop)
    NoteFactory.create_batch(3, customer=anna)
    client = client_of(owner)
    client.get(reverse("customers:detail", args=[anna.pk]))
    # 14 for the shell, access and the customer's own parts (customer and prefetches,
    # timeline, orders, returns, notes, duplicates); the panels: loyalty 8 (programme,
    # member, tier settings, tiers, tier row, spend, stamp cards, vouchers), consent 2
    # (consent, topics), analytics 5 (RFM figures, forecast, best sellers,
    # recommendations, run-outs): no query per order, note or event.
    with django_assert_max_num_queries(29):
        client.get(reverse("customers:detail", args=[anna.pk]))


def test_an_unknown_customer_is_a_404(client_of, agent):
    assert client_of(agent).get(reverse("customers:detail", args=[424242])).status_code == 404


# -- Edit and create ----------------------------------------------------------------------------


def test_editing_saves_through_the_service_and_records_the_change(client_of, agent, anna):
    response = client_of(agent).post(
        reverse("customers:edit", args=[anna.pk]),
        {"first_name": "Anna-Lena", "last_name": "Müller", "email": "anna.mueller@example.de",
         "phone": "040 123", "birthday": "1990-05-17", "language": "de", "tags": "Espresso, Bio"},
    )  # fmt: skip
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.first_name == "Anna-Lena"
    assert str(anna.birthday) == "1990-05-17"
    assert sorted(anna.tags.values_list("name", flat=True)) == ["Bio", "Espresso"]
    assert DomainEvent.objects.filter(customer=anna, kind="customer.updated").count() == 1


def test_an_invalid_edit_shows_the_errors_and_writes_nothing(client_of, agent, anna, ben):
    before = Customer.objects.values().get(pk=anna.pk)
    response = client_of(agent).post(
        reverse("customers:edit", args=[anna.pk]),
        {"first_name": "Neu", "last_name": "Müller", "email": ben.email, "language": "de",
         "tags": "Neu"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert Customer.objects.values().get(pk=anna.pk) == before
    assert not Tag.objects.filter(name="Neu").exists()
    assert not DomainEvent.objects.filter(kind="customer.updated").exists()


def test_an_edit_with_a_malformed_field_never_reaches_the_service(client_of, agent, anna):
    response = client_of(agent).post(
        reverse("customers:edit", args=[anna.pk]),
        {"first_name": "Anna", "email": "keine-adresse", "birthday": "31.02.1990",
         "language": "xx"},
    )  # fmt: skip
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "birthday", "language"}
    anna.refresh_from_db()
    assert anna.email == "anna.mueller@example.de"


def test_creating_a_customer_assigns_a_number_and_shows_the_page(client_of, owner):
    response = client_of(owner).post(
        reverse("customers:create"),
        {"first_name": "Clara", "last_name": "Weiß", "email": "Clara@Example.de", "language": "de"},
    )
    customer = Customer.objects.get(email="clara@example.de")
    assert response.status_code == 302
    assert response.url == reverse("customers:detail", args=[customer.pk])
    assert customer.source_channel == "manual"


def test_creating_a_customer_without_name_or_email_is_refused(client_of, owner):
    response = client_of(owner).post(reverse("customers:create"), {"language": "de"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Customer.objects.exists()


# -- Notes --------------------------------------------------------------------------------------


def test_support_adds_a_note(client_of, agent, anna):
    response = client_of(agent).post(
        reverse("customers:add_note", args=[anna.pk]), {"text": "Bitte nur per Mail."}
    )
    assert response.status_code == 302
    assert Note.objects.get(customer=anna).author == agent


def test_an_empty_note_is_refused(client_of, agent, anna):
    response = client_of(agent).post(reverse("customers:add_note", args=[anna.pk]), {"text": " "})
    assert response.status_code == 400
    assert "text" in response.context["note_form"].errors
    assert not Note.objects.exists()


def test_notes_cannot_be_added_with_a_get(client_of, agent, anna):
    assert client_of(agent).get(reverse("customers:add_note", args=[anna.pk])).status_code == 405


# -- Merge --------------------------------------------------------------------------------------


def test_merging_shows_both_customers_before_anything_happens(client_of, owner, anna, ben):
    response = client_of(owner).get(
        reverse("customers:merge", args=[anna.pk]), {"duplicate": ben.display_number}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert anna.display_number in content and ben.display_number in content
    assert Customer.objects.filter(pk=ben.pk).exists()


def test_merging_moves_the_duplicate_into_the_survivor(
    client_of, owner, anna, ben, shop, django_capture_on_commit_callbacks
):
    order = make_order(customer=ben, shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(owner).post(
            reverse("customers:merge", args=[anna.pk]), {"duplicate": str(ben.number)}
        )
    assert response.status_code == 302
    assert response.url == reverse("customers:detail", args=[anna.pk])
    assert not Customer.objects.filter(pk=ben.pk).exists()
    order.refresh_from_db()
    assert order.customer_id == anna.pk
    anna.refresh_from_db()
    assert anna.order_count == 1


@pytest.mark.parametrize("typed", ["", "abc", "K999999"])
def test_merging_refuses_an_unknown_or_malformed_number(client_of, owner, anna, ben, typed):
    response = client_of(owner).post(
        reverse("customers:merge", args=[anna.pk]), {"duplicate": typed}
    )
    assert response.status_code == 400
    assert "duplicate" in response.context["merge_form"].errors
    assert Customer.objects.count() == 2


def test_merging_a_customer_with_itself_is_refused(client_of, owner, anna):
    response = client_of(owner).post(
        reverse("customers:merge", args=[anna.pk]), {"duplicate": str(anna.number)}
    )
    assert response.status_code == 400
    assert Customer.objects.filter(pk=anna.pk).exists()


def test_possible_duplicates_are_suggested_for_merging(client_of, owner, anna):
    twin = CustomerFactory(first_name="Anna", last_name="Müller", email="anna@laden.de")
    response = client_of(owner).get(reverse("customers:detail", args=[anna.pk]))
    assert response.context["duplicates"] == [twin]
    assert f"?duplicate={twin.number}" in response.content.decode()
