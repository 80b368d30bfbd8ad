from __future__ import annotations

import pytest
from django.urls import reverse

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import selectors, services
from treu.loyalty.models import EntryKind, Member
from treu.loyalty.tests.conftest import assert_sums_match_ledger, make_reward

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]
SETTINGS_DATA = {
    "program_name": "Bohnenclub",
    "point_name": "Bohnen",
    "membership": "opt_in",
    "points_per_euro": "2",
    "points_basis": "net",
    "include_shipping": "",
    "rounding": "half_up",
    "welcome_points": "25",
    "return_window_days": "30",
}


def _pages(member):
    viewers = {"owner", "marketer", "agent"}
    return {
        "member_list": (reverse("loyalty:member_list"), "get", viewers),
        "member_detail": (reverse("loyalty:member_detail", args=[member.pk]), "get", viewers),
        "member_adjust": (
            reverse("loyalty:member_adjust", args=[member.pk]),
            "post",
            {"owner", "marketer"},
        ),
        "member_enrol": (reverse("loyalty:member_enrol"), "post", viewers),
        "settings": (reverse("loyalty:settings"), "get", {"owner", "marketer"}),
    }


PAGES = ["member_list", "member_detail", "member_adjust", "member_enrol", "settings"]
POSTED_EMPTY = {"member_adjust", "member_enrol"}


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, anna_member, page):
    url, method, _ = _pages(anna_member)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, anna_member, page):
    url, method, _ = _pages(anna_member)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_reaches_exactly_the_loyalty_pages_it_may_use(
    client_of, request, anna_member, page, role
):
    url, method, allowed = _pages(anna_member)[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    if role in allowed:
        # An empty form is refused as bad input, but only after the access check.
        assert response.status_code == (400 if page in POSTED_EMPTY else 200)
    else:
        assert response.status_code == 403


def test_the_navigation_shows_loyalty_to_those_who_may_see_members(client_of, agent, cashier):
    # The exact link: the cashier's "redeem stamp voucher" entry lives under /loyalty/ too.
    link = f'href="{reverse("loyalty:member_list")}"'
    assert link in client_of(agent).get(reverse("backoffice:overview")).content.decode()
    assert link not in client_of(cashier).get(reverse("backoffice:overview")).content.decode()


# -- Enrolling -------------------------------------------------------------------------------


def test_staff_enrol_a_customer_by_number_or_email(client_of, agent, program, anna, ben):
    client = client_of(agent)
    url = reverse("loyalty:member_enrol")
    response = client.post(url, {"customer": anna.display_number})
    member = selectors.member_of(anna.pk)
    assert response.status_code == 302 and response.url.endswith(f"/members/{member.pk}/")
    assert client.post(url, {"customer": "BEN.Schaefer@example.de"}).status_code == 302
    assert selectors.member_of(ben.pk) is not None


def test_enrolling_refuses_unknown_and_erased_customers(client_of, agent, program, anna):
    from treu.core import privacy

    privacy.erase_customer(anna)
    client = client_of(agent)
    for text in ("K999999", "nobody@example.de", anna.display_number, "Anna"):
        response = client.post(reverse("loyalty:member_enrol"), {"customer": text})
        assert response.status_code == 400, text
        assert response.context["enrol_form"].errors["customer"] == [
            "Kein Kunde mit dieser Nummer oder E-Mail-Adresse."
        ]
    assert not Member.objects.exists()


def test_enrolling_waits_for_the_programme_to_be_set_up(client_of, agent, anna):
    response = client_of(agent).post(reverse("loyalty:member_enrol"), {"customer": anna.email})
    assert response.status_code == 400
    assert "noch nicht eingerichtet" in response.content.decode()


# -- Settings ---------------------------------------------------------------------------------


def test_saving_the_settings_starts_the_programme(client_of, marketer):
    response = client_of(marketer).post(reverse("loyalty:settings"), SETTINGS_DATA)
    assert response.status_code == 302
    program = selectors.program_settings()
    assert program.created_at is not None
    assert (program.point_name, program.welcome_points, program.return_window_days) == (
        "Bohnen",
        25,
        30,
    )
    assert (program.points_basis, program.rounding) == ("net", "half_up")


def test_the_settings_page_shows_what_a_typical_order_earns(client_of, owner):
    services.update_program_settings(
        points_per_euro="2", points_basis="net", include_shipping=True, point_name="Bohnen"
    )
    content = client_of(owner).get(reverse("loyalty:settings")).content.decode()
    # 45,00 € at 7 % VAT is 42,06 € net, 4,90 € shipping 4,58 € net: 46,64 € × 2 = 93 points.
    assert "45,00\u00a0€" in content and "93 Bohnen" in content
    assert "Mit den gespeicherten Einstellungen bringt eine Bestellung" in content


def test_points_per_euro_take_a_german_decimal_comma(client_of, owner, program):
    data = {**SETTINGS_DATA, "points_per_euro": "2,5"}
    assert client_of(owner).post(reverse("loyalty:settings"), data).status_code == 302
    assert str(selectors.program_settings().points_per_euro) == "2.50"
    assert 'value="2,50"' in client_of(owner).get(reverse("loyalty:settings")).content.decode()


def test_the_settings_form_shows_german_errors(client_of, owner):
    data = {**SETTINGS_DATA, "return_window_days": "400", "points_per_euro": "-1"}
    response = client_of(owner).post(reverse("loyalty:settings"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "kleiner oder gleich 365" in errors["return_window_days"][0]
    assert "größer oder gleich 0" in errors["points_per_euro"][0]
    assert selectors.program_settings().created_at is None


# -- Members ----------------------------------------------------------------------------------


def test_the_member_list_searches_by_name_email_and_number(client_of, agent, anna_member, ben):
    services.join_program(customer=ben)
    client = client_of(agent)
    url = reverse("loyalty:member_list")
    for query in ("Müll", "anna.mueller@", str(anna_member.customer.number)):
        listed = list(client.get(url, {"q": query}).context["page"].object_list)
        assert listed == [anna_member], query
    assert len(client.get(url).context["page"].object_list) == 2


def test_the_member_list_needs_the_same_few_queries_for_many_members(
    client_of, agent, program, django_assert_num_queries
):
    for _ in range(30):
        services.join_program(customer=CustomerFactory())
    client = client_of(agent)
    client.get(reverse("loyalty:member_list"))
    # session, user, groups, permissions (user + group), count, programme settings, tiers,
    # page
    with django_assert_num_queries(9):
        response = client.get(reverse("loyalty:member_list"))
    assert len(response.context["page"].object_list) == 30


def test_the_member_page_shows_the_ledger_with_reason_and_staff(client_of, marketer, anna_member):
    services.adjust_points(member=anna_member, points=12, reason="Kulanz", staff_user=marketer)
    response = client_of(marketer).get(reverse("loyalty:member_detail", args=[anna_member.pk]))
    content = response.content.decode()
    for text in ("Kulanz", "marketing", "+12", "Korrigiert", "Punkte korrigieren"):
        assert text in content


def test_the_member_page_needs_the_same_few_queries_for_a_long_ledger(
    client_of, marketer, anna_member, anna, django_assert_num_queries
):
    from treu.commerce.tests.factories import make_order

    orders = [make_order(customer=anna, lines=((1, 1000, 700), (2, 500, 700))) for _ in range(10)]
    services.award_points_for_orders([order.pk for order in orders])
    services.adjust_points(member=anna_member, points=500, reason="Kulanz", staff_user=marketer)
    for kind in ("fixed_amount", "percent", "store_credit"):  # coupons and credit, too
        services.redeem_reward(member=anna_member, reward=make_reward(kind, points_cost=10))
    client = client_of(marketer)
    url = reverse("loyalty:member_detail", args=[anna_member.pk])
    client.get(url)
    # session, user, groups, permissions (user + group), member, count, ledger page, settings,
    # coupons, store credit, the rewards to redeem and the tiers they are reserved for, stamp
    # cards, stamp vouchers, tiers
    with django_assert_num_queries(16):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 24
    assert len(response.context["coupons"]) == 2 and len(response.context["credit_entries"]) == 1


def test_support_sees_the_ledger_but_no_adjust_form(client_of, agent, anna_member):
    response = client_of(agent).get(reverse("loyalty:member_detail", args=[anna_member.pk]))
    assert response.context["adjust_form"] is None
    url = reverse("loyalty:member_adjust", args=[anna_member.pk])
    assert url not in response.content.decode()


def test_an_adjustment_is_booked_with_the_staff_member(client_of, marketer, anna_member):
    url = reverse("loyalty:member_adjust", args=[anna_member.pk])
    response = client_of(marketer).post(url, {"points": "40", "reason": "Kulanz"})
    assert response.status_code == 302
    entry = anna_member.entries.get(kind=EntryKind.ADJUST)
    assert (entry.points, entry.reason, entry.staff_user) == (40, "Kulanz", marketer)
    assert_sums_match_ledger(anna_member)


def test_an_adjustment_needs_a_reason_and_never_overdraws(client_of, marketer, anna_member):
    url = reverse("loyalty:member_adjust", args=[anna_member.pk])
    client = client_of(marketer)
    response = client.post(url, {"points": "5", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["adjust_form"].errors
    response = client.post(url, {"points": "-5", "reason": "Fehler"})
    assert response.status_code == 400
    assert response.context["adjust_form"].errors["points"] == ["Nicht genug Bohnen: 0 verfügbar."]
    assert not anna_member.entries.exists()


def test_an_unknown_member_is_a_404(client_of, agent, program):
    assert client_of(agent).get(reverse("loyalty:member_detail", args=[9876])).status_code == 404
