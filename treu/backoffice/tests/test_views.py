from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.commerce.tests.factories import make_order
from treu.core.models import CapturedMail

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(db):
    return CapturedMail.objects.create(
        from_email="treu <noreply@localhost>",
        to="anna.mueller@example.de",
        subject="Ihre Bestellung",
        text_body="Hallo Anna",
        html_body="<p>Hallo <b>Anna</b></p><script>alert(1)</script>",
    )


def _urls(mail):
    return {
        "overview": reverse("backoffice:overview"),
        "mail_list": reverse("backoffice:mail_list"),
        "mail_detail": reverse("backoffice:mail_detail", args=[mail.pk]),
        "mail_html": reverse("backoffice:mail_html", args=[mail.pk]),
    }


@pytest.mark.parametrize("name", ["overview", "mail_list", "mail_detail", "mail_html"])
def test_it_sends_anonymous_visitors_to_the_login(client, mail, name):
    url = _urls(mail)[name]
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("name", ["overview", "mail_list", "mail_detail", "mail_html"])
def test_it_refuses_users_without_a_role(client_of, outsider, mail, name):
    response = client_of(outsider).get(_urls(mail)[name])
    assert response.status_code == 403
    assert b"403" in response.content


@pytest.mark.parametrize("name", ["mail_list", "mail_detail", "mail_html"])
@pytest.mark.parametrize("role", ["agent", "cashier"])
def test_it_refuses_captured_mails_to_support_and_the_till(client_of, request, mail, name, role):
    user = request.getfixturevalue(role)
    assert client_of(user).get(_urls(mail)[name]).status_code == 403


@pytest.mark.parametrize("name", ["mail_list", "mail_detail", "mail_html"])
@pytest.mark.parametrize("role", ["owner", "marketer"])
def test_it_shows_captured_mails_to_owner_and_marketing(client_of, request, mail, name, role):
    user = request.getfixturevalue(role)
    assert client_of(user).get(_urls(mail)[name]).status_code == 200


@pytest.mark.parametrize("role", ["owner", "marketer", "agent", "cashier"])
def test_every_staff_role_sees_the_overview(client_of, request, role):
    response = client_of(request.getfixturevalue(role)).get(reverse("backoffice:overview"))
    assert response.status_code == 200


def test_the_403_page_explains_which_role_lacks_access(client_of, cashier):
    response = client_of(cashier).get(reverse("customers:list"))
    assert response.status_code == 403
    content = response.content.decode()
    assert "403" in content
    assert "Kasse" in content or "Cashier" in content
    assert reverse("backoffice:logout") in content  # still inside the shell


def test_the_404_page_uses_the_shell(client_of, owner):
    response = client_of(owner).get("/customers/999999/")
    assert response.status_code == 404
    assert "404" in response.content.decode()


def test_the_login_page_renders_and_rejects_a_wrong_password(client, owner):
    assert client.get(reverse("backoffice:login")).status_code == 200
    response = client.post(
        reverse("backoffice:login"), {"username": owner.username, "password": "falsch"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_logging_out_needs_a_post_and_ends_the_session(client_of, owner):
    client = client_of(owner)
    response = client.post(reverse("backoffice:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_shell_shows_navigation_role_language_switch_and_logout(client_of, owner):
    content = client_of(owner).get(reverse("backoffice:overview")).content.decode()
    assert reverse("customers:list") in content
    assert reverse("commerce:order_list") in content
    assert reverse("backoffice:mail_list") in content
    assert reverse("set_language") in content
    assert 'action="/logout/"' in content
    assert "Inhaber" in content or "Owner" in content


def test_the_shell_hides_navigation_a_role_may_not_use(client_of, cashier):
    content = client_of(cashier).get(reverse("backoffice:overview")).content.decode()
    assert reverse("customers:list") not in content
    assert reverse("backoffice:mail_list") not in content


def test_the_language_switch_changes_the_page_language(client_of, owner):
    client = client_of(owner)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("backoffice:overview")}
    )
    assert response.status_code == 302
    assert 'lang="en"' in client.get(reverse("backoffice:overview")).content.decode()


def test_pages_load_nothing_from_other_hosts(client_of, owner, anna, shop):
    make_order(customer=anna, shop=shop)
    client = client_of(owner)
    for url in (reverse("backoffice:overview"), reverse("customers:detail", args=[anna.pk])):
        content = client.get(url).content.decode()
        assert "https://" not in content
        assert "http://" not in content.replace("http://www.w3.org/2000/svg", "")


def test_the_overview_shows_business_figures_to_the_owner(client_of, owner, anna, ben, shop):
    make_order(customer=anna, shop=shop, lines=((2, 1000, 700),))
    make_order(customer=anna, shop=shop, lines=((1, 2500, 700),))
    make_order(customer=ben, shop=shop, placed_at=timezone.now() - timedelta(days=40))
    response = client_of(owner).get(reverse("backoffice:overview"))
    figures = response.context["figures"]
    assert figures.orders_30d == 2
    assert figures.revenue_30d_cents == 4500
    assert "45,00\u00a0€" in response.content.decode()
    assert "<svg" in response.content.decode()


def test_the_overview_shows_the_cashier_no_business_figures(client_of, cashier, anna, shop):
    make_order(customer=anna, shop=shop, lines=((1, 98765, 700),))
    response = client_of(cashier).get(reverse("backoffice:overview"))
    assert "figures" not in response.context
    assert "987,65" not in response.content.decode()


def test_the_overview_needs_a_fixed_number_of_queries(
    client_of, owner, shop, django_assert_num_queries
):
    from treu.customers.tests.factories import CustomerFactory

    for i in range(15):
        customer = CustomerFactory()
        make_order(customer=customer, shop=shop, placed_at=timezone.now() - timedelta(days=i * 20))
    client = client_of(owner)
    client.get(reverse("backoffice:overview"))  # warm caches (content types, sessions)
    # session, user, groups, permissions (user + group), then the dashboard's four
    with django_assert_num_queries(9):
        response = client.get(reverse("backoffice:overview"))
    assert response.status_code == 200


def test_the_mail_page_shows_html_only_in_a_sandboxed_frame(client_of, owner, mail):
    client = client_of(owner)
    content = client.get(reverse("backoffice:mail_detail", args=[mail.pk])).content.decode()
    assert "<iframe" in content and " sandbox " in content
    assert "<script>alert(1)</script>" not in content
    html = client.get(reverse("backoffice:mail_html", args=[mail.pk]))
    assert "default-src 'none'" in html["Content-Security-Policy"]


def test_the_mail_list_shows_subjects(client_of, owner, mail):
    assert (
        "Ihre Bestellung" in client_of(owner).get(reverse("backoffice:mail_list")).content.decode()
    )


@pytest.mark.parametrize(
    ("page", "marked"),
    [
        ("loyalty:stamp_card_types", "loyalty:stamp_card_types"),
        ("loyalty:kpis", "loyalty:kpis"),
        ("loyalty:member_list", "loyalty:member_list"),
        ("backoffice:overview", "backoffice:overview"),
    ],
)
def test_only_the_closest_navigation_entry_is_marked(client_of, owner, page, marked):
    # Stamp cards live under the loyalty entry's address; the page is theirs alone.
    html = client_of(owner).get(reverse(page)).content.decode()
    assert html.count('aria-current="page"') == 1
    assert f'<a href="{reverse(marked)}" class="active" aria-current="page">' in html
