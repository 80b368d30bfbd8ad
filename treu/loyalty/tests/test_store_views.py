"""The till's pages: who may use them, the bookings through the forms, the member card."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from treu.commerce.models import Order, Shop, ShopKind
from treu.commerce.tests.factories import ShopFactory
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import Coupon, Member, MemberCard, StampCard, TillAction, TillSettings
from treu.loyalty.tests.conftest import give_points, make_reward
from treu.loyalty.tests.stamps import coffee_card

pytestmark = pytest.mark.django_db

KEY = "a" * 24
ROLES = ["owner", "marketer", "agent", "cashier"]


@pytest.fixture
def store(program):
    shop = ShopFactory(code="laden", name="Laden am Markt", kind=ShopKind.POS, is_store=True)
    services.update_till_settings(shop=shop, tax_rate_bp=1900)
    return shop


def _pages(member):
    till_users = {"owner", "cashier"}
    card_users = set(ROLES)
    return {
        "till": (reverse("loyalty:till"), till_users),
        "member": (reverse("loyalty:till_member", args=[member.pk]), till_users),
        "settings": (reverse("loyalty:till_settings"), {"owner"}),
        "card": (reverse("loyalty:member_card", args=[member.pk]), card_users),
    }


POSTS = ["till_purchase", "till_stamps", "till_redeem"]


def test_it_sends_anonymous_visitors_to_the_login(client, anna_member):
    urls = [url for url, _users in _pages(anna_member).values()]
    urls += [reverse(f"loyalty:{name}", args=[anna_member.pk]) for name in POSTS]
    urls += [reverse("loyalty:till_undo", args=[anna_member.pk, 1])]
    urls += [reverse("loyalty:member_card_issue", args=[anna_member.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_it_refuses_users_without_a_role(client_of, outsider, anna_member):
    client = client_of(outsider)
    for url, _users in _pages(anna_member).values():
        assert client.get(url).status_code == 403, url
    post = reverse("loyalty:till_purchase", args=[anna_member.pk])
    assert client.post(post, {"key": KEY, "amount": "5"}).status_code == 403
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_till_pages_it_may_use(
    client_of, request, anna_member, store, role
):
    client = client_of(request.getfixturevalue(role))
    for name, (url, users) in _pages(anna_member).items():
        expected = 200 if role in users else 403
        assert client.get(url).status_code == expected, (name, role)


@pytest.mark.parametrize("role", ["marketer", "agent"])
def test_marketing_and_support_cannot_book_at_the_till(
    client_of, request, anna_member, store, role
):
    client = client_of(request.getfixturevalue(role))
    url = reverse("loyalty:till_purchase", args=[anna_member.pk])
    assert client.post(url, {"key": KEY, "amount": "5"}).status_code == 403
    assert not Order.objects.exists()


def test_the_cashier_sees_the_till_in_the_navigation(client_of, cashier, program):
    html = client_of(cashier).get(reverse("backoffice:overview")).content.decode()
    assert reverse("loyalty:till") in html


# -- Finding the member ------------------------------------------------------------------------


def test_a_typed_number_opens_the_member(client_of, cashier, anna_member):
    url = reverse("loyalty:till") + f"?q=%23{anna_member.customer.number}"
    response = client_of(cashier).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("loyalty:till_member", args=[anna_member.pk])


def test_a_scanned_card_code_opens_the_member(client_of, cashier, anna_member):
    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    response = client_of(cashier).get(reverse("loyalty:till"), {"q": card.code})
    assert response["Location"] == reverse("loyalty:till_member", args=[anna_member.pk])


def test_several_matches_are_a_short_list(client_of, cashier, anna_member):
    other = CustomerFactory(first_name="Anna", last_name="Meier", email="anna.meier@example.de")
    services.join_program(customer=other)
    response = client_of(cashier).get(reverse("loyalty:till"), {"q": "Anna"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Anna Müller" in html and "Anna Meier" in html
    assert reverse("loyalty:till_member", args=[anna_member.pk]) in html


def test_nothing_found_says_so(client_of, cashier, program):
    response = client_of(cashier).get(reverse("loyalty:till"), {"q": "77777"})
    assert "Kein Mitglied gefunden" in response.content.decode()


def test_a_customer_who_is_no_member_can_be_enrolled_at_the_till(client_of, cashier, ben, program):
    client = client_of(cashier)
    html = client.get(reverse("loyalty:till"), {"q": ben.email}).content.decode()
    assert "noch kein Mitglied" in html
    response = client.post(reverse("loyalty:till_enrol"), {"customer": str(ben.number)})
    member = Member.objects.get(customer=ben)
    assert response["Location"] == reverse("loyalty:till_member", args=[member.pk])


# -- Booking -----------------------------------------------------------------------------------


def test_the_member_page_shows_balance_tier_stamps_and_affordable_rewards(
    client_of, cashier, anna_member, store
):
    give_points(anna_member, 250)
    coffee_card()
    make_reward("fixed_amount", name="5 € Rabatt", points_cost=200)
    make_reward("fixed_amount", name="10 € Rabatt", points_cost=400)
    html = client_of(cashier).get(reverse("loyalty:till_member", args=[anna_member.pk]))
    html = html.content.decode()
    assert "Anna Müller" in html and anna_member.customer.display_number in html
    assert "<strong>250</strong> Bohnen" in html
    assert "Kaffeekarte" in html and "0 von 10" in html
    assert "5 € Rabatt" in html
    assert "noch 150 Bohnen bis 10 € Rabatt" in html.replace("Noch", "noch")
    assert "Laden am Markt" in html


def test_a_purchase_is_booked_once_however_often_the_form_is_sent(
    client_of, cashier, anna_member, store, django_capture_on_commit_callbacks
):
    client = client_of(cashier)
    url = reverse("loyalty:till_purchase", args=[anna_member.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"key": KEY, "amount": "23,50"})
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, {"key": KEY, "amount": "23,50"})
    assert first.status_code == second.status_code == 302
    assert Order.objects.count() == 1 and TillAction.objects.count() == 1
    page = client.get(first["Location"]).content.decode()
    assert "Einkauf 23,50" in page and "23 Bohnen" in page
    assert "bereits gebucht" in page  # the second send said so


def test_a_bad_amount_is_refused_in_german_and_books_nothing(
    client_of, cashier, anna_member, store
):
    url = reverse("loyalty:till_purchase", args=[anna_member.pk])
    response = client_of(cashier).post(url, {"key": KEY, "amount": "zwölf"})
    assert response.status_code == 400
    assert "Bitte geben Sie einen Betrag in Euro ein" in response.content.decode()
    assert not Order.objects.exists()


def test_a_stale_form_without_a_key_is_refused(client_of, cashier, anna_member, store):
    url = reverse("loyalty:till_purchase", args=[anna_member.pk])
    response = client_of(cashier).post(url, {"amount": "5"})
    assert response.status_code == 400 and not Order.objects.exists()
    assert "Seite neu" in response.content.decode()


def test_stamps_and_redemption_through_the_forms(client_of, cashier, anna_member, program):
    card_type = coffee_card()
    give_points(anna_member, 300)
    reward = make_reward("fixed_amount", name="5 € Rabatt", points_cost=200)
    client = client_of(cashier)
    client.post(
        reverse("loyalty:till_stamps", args=[anna_member.pk]),
        {"key": "s" * 20, "card_type": card_type.pk, "count": "2"},
    )
    assert StampCard.objects.get().stamps == 2
    response = client.post(
        reverse("loyalty:till_redeem", args=[anna_member.pk]),
        {"key": "r" * 20, "reward": reward.pk},
    )
    code = Coupon.objects.get().code
    page = client.get(response["Location"]).content.decode()
    assert '<div class="till-code"' in page and code in page


def test_a_refused_redemption_shows_why(client_of, cashier, anna_member, program):
    reward = make_reward("fixed_amount", points_cost=200)
    response = client_of(cashier).post(
        reverse("loyalty:till_redeem", args=[anna_member.pk]), {"key": KEY, "reward": reward.pk}
    )
    assert response.status_code == 400
    assert "Nicht genug Bohnen" in response.content.decode()


def test_undo_through_the_page_and_refused_for_another_cashier(
    client_of, cashier, anna_member, program
):
    from django.contrib.auth.models import Group, User
    from django.test import Client

    card_type = coffee_card()
    client = client_of(cashier)
    client.post(
        reverse("loyalty:till_stamps", args=[anna_member.pk]),
        {"key": KEY, "card_type": card_type.pk, "count": "3"},
    )
    action = TillAction.objects.get()
    undo = reverse("loyalty:till_undo", args=[anna_member.pk, action.pk])
    colleague = User.objects.create_user("kasse2")
    colleague.groups.add(Group.objects.get(name="Kasse"))
    other = Client()
    other.force_login(colleague)
    refused = other.post(undo)
    assert "Nur wer gebucht hat" in [str(m) for m in get_messages(refused.wsgi_request)][0]
    page = other.get(reverse("loyalty:till_member", args=[anna_member.pk])).content.decode()
    assert "Nur wer gebucht hat" in page and undo not in page  # no button, the reason
    assert (
        client.get(reverse("loyalty:till_member", args=[anna_member.pk]))
        .content.decode()
        .count(undo)
    )
    client.post(undo)
    assert StampCard.objects.get().stamps == 0
    action.refresh_from_db()
    assert action.undone_by == cashier


def test_the_member_page_query_count_does_not_grow_with_data(
    client_of, cashier, anna_member, store, django_assert_num_queries
):
    client = client_of(cashier)
    url = reverse("loyalty:till_member", args=[anna_member.pk])

    def add_data(n: int):
        give_points(anna_member, 1000)
        for i in range(n):
            card_type = coffee_card(name=f"Karte {n}-{i}")
            services.give_store_stamps(
                member=anna_member,
                card_type=card_type,
                count=1,
                staff_user=cashier,
                key=f"stamp-key-{n}-{i:08d}",
            )
            reward = make_reward("fixed_amount", name=f"Prämie {n}-{i}", points_cost=10)
            services.redeem_at_till(
                member=anna_member, reward=reward, staff_user=cashier, key=f"redeem-key-{n}-{i:06d}"
            )
        client.get(url)  # warm the session and the content types

    add_data(1)
    with django_assert_num_queries(16):
        assert client.get(url).status_code == 200
    add_data(4)
    with django_assert_num_queries(16):
        assert client.get(url).status_code == 200


# -- Member card and settings ------------------------------------------------------------------


def test_the_card_is_issued_shown_as_qr_and_replaced(client_of, cashier, anna_member):
    client = client_of(cashier)
    url = reverse("loyalty:member_card", args=[anna_member.pk])
    assert "noch keine Mitgliedskarte" in client.get(url).content.decode()
    client.post(reverse("loyalty:member_card_issue", args=[anna_member.pk]))
    card = MemberCard.objects.get()
    html = client.get(url).content.decode()
    assert card.code in html and "<svg" in html and "viewBox" in html
    client.post(reverse("loyalty:member_card_issue", args=[anna_member.pk]), {"replace": "1"})
    assert MemberCard.objects.get().code != card.code


def test_the_owner_creates_the_store_in_the_settings(client_of, owner, program):
    response = client_of(owner).post(
        reverse("loyalty:till_settings"), {"new_store_name": "Laden am Markt", "tax_rate_bp": "700"}
    )
    assert response.status_code == 302
    settings = TillSettings.objects.get()
    assert settings.shop.name == "Laden am Markt" and settings.tax_rate_bp == 700
    assert Shop.objects.get().kind == ShopKind.POS


def test_the_settings_refuse_no_store_in_german(client_of, owner, program):
    response = client_of(owner).post(reverse("loyalty:till_settings"), {"tax_rate_bp": "1900"})
    assert response.status_code == 400
    assert "Wählen Sie den Laden" in response.content.decode()


def test_without_a_store_the_purchase_panel_says_how_to_set_it_up(client_of, owner, anna_member):
    html = client_of(owner).get(reverse("loyalty:till_member", args=[anna_member.pk]))
    assert reverse("loyalty:till_settings") in html.content.decode()


def test_enrolling_at_the_till_is_for_the_till(client_of, marketer, ben, program):
    response = client_of(marketer).post(
        reverse("loyalty:till_enrol"), {"customer": str(ben.number)}
    )
    assert response.status_code == 403
    assert not Member.objects.filter(customer=ben).exists()
