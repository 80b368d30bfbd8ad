from __future__ import annotations

import pytest
from django.urls import reverse

from treu.commerce.tests.factories import CategoryFactory
from treu.loyalty import services
from treu.loyalty.models import StampCardType, StampVoucher
from treu.loyalty.tests.stamps import COFFEE, coffee_card

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]
CARD_DATA = {
    "name": "Kaffeekarte",
    "stamps_needed": "10",
    "skus": "KAFFEE-1, KAFFEE-2",
    "reward_sku": "KAFFEE-1",
    "reward_description": "1 Kaffee gratis",
    "voucher_valid_days": "90",
    "valid_from": "2026-01-01",
    "valid_until": "",
}


@pytest.fixture
def card(program):
    return coffee_card()


def _pages(card):
    designers = {"owner", "marketer"}
    return {
        "list": (reverse("loyalty:stamp_card_types"), "get", designers),
        "create": (reverse("loyalty:stamp_card_type_create"), "get", designers),
        "edit": (reverse("loyalty:stamp_card_type_edit", args=[card.pk]), "get", designers),
        "redeem": (reverse("loyalty:stamp_voucher_redeem"), "get", set(ROLES)),
    }


PAGES = ["list", "create", "edit", "redeem"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, card, page):
    url, method, _ = _pages(card)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, card, page):
    url, method, _ = _pages(card)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_reaches_exactly_the_stamp_pages_it_may_use(client_of, request, card, page, role):
    url, method, allowed = _pages(card)[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    assert response.status_code == (200 if role in allowed else 403)


def test_support_cannot_post_a_card_type(client_of, agent, program):
    response = client_of(agent).post(reverse("loyalty:stamp_card_type_create"), CARD_DATA)
    assert response.status_code == 403
    assert not StampCardType.objects.exists()


def test_marketing_creates_and_edits_a_card_type(client_of, marketer, program):
    client = client_of(marketer)
    beans = CategoryFactory()
    response = client.post(
        reverse("loyalty:stamp_card_type_create"), {**CARD_DATA, "categories": [beans.pk]}
    )
    assert response.status_code == 302
    card_type = StampCardType.objects.get()
    assert card_type.skus == ["KAFFEE-1", "KAFFEE-2"]
    assert list(card_type.categories.all()) == [beans]
    edit = reverse("loyalty:stamp_card_type_edit", args=[card_type.pk])
    assert "KAFFEE-1, KAFFEE-2" in client.get(edit).content.decode()
    response = client.post(edit, {**CARD_DATA, "stamps_needed": "8", "skus": "KAFFEE-3"})
    assert response.status_code == 302
    card_type.refresh_from_db()
    assert (card_type.stamps_needed, card_type.skus) == (8, ["KAFFEE-3"])
    assert list(card_type.categories.all()) == []


def test_the_card_type_form_shows_german_errors(client_of, owner, program):
    response = client_of(owner).post(
        reverse("loyalty:stamp_card_type_create"),
        {**CARD_DATA, "skus": "", "valid_until": "2025-01-01"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Mindestens eine Artikelnummer oder Kategorie" in content
    assert "Das Ende liegt vor dem Beginn." in content
    assert not StampCardType.objects.exists()


def test_the_card_type_list_needs_the_same_queries_for_many_types(
    client_of, marketer, program, django_assert_num_queries
):
    client = client_of(marketer)
    url = reverse("loyalty:stamp_card_types")
    coffee_card(name="A", categories=[CategoryFactory()])
    client.get(url)
    for n in range(5):
        coffee_card(name=f"Karte {n}")
    # session, user, groups, permissions (user + group), settings, types, their categories
    with django_assert_num_queries(8):
        response = client.get(url)
    assert "Karte 4" in response.content.decode()


def test_an_unknown_card_type_is_a_404(client_of, owner, program):
    url = reverse("loyalty:stamp_card_type_edit", args=[999])
    assert client_of(owner).get(url).status_code == 404


def test_the_member_page_shows_cards_and_vouchers(client_of, agent, card, anna_member, owner):
    services.add_stamps(member=anna_member, card_type=card, count=13, staff_user=owner)
    voucher = StampVoucher.objects.get()
    url = reverse("loyalty:member_detail", args=[anna_member.pk])
    content = client_of(agent).get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Kaffeekarte" in content and "3 von 10 Stempeln" in content
    assert voucher.code in content and "1 Kaffee gratis" in content


def test_the_cashier_redeems_a_voucher_by_its_code_once(client_of, cashier, card, anna_member):
    voucher = services.add_stamps(
        member=anna_member, card_type=card, count=10, staff_user=cashier
    ).vouchers[0]
    client = client_of(cashier)
    url = reverse("loyalty:stamp_voucher_redeem")
    response = client.post(url, {"code": voucher.code.lower()}, follow=True)
    assert "1 Kaffee gratis" in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.redeemed_by == cashier
    again = client.post(url, {"code": voucher.code}, HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 400
    assert "bereits" in again.content.decode()


def test_redeeming_an_unknown_code_changes_nothing(client_of, cashier, card):
    response = client_of(cashier).post(reverse("loyalty:stamp_voucher_redeem"), {"code": "X"})
    assert response.status_code == 400
    assert COFFEE not in response.content.decode()
