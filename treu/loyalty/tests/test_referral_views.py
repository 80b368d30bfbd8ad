"""Referral pages: the public landing page, the review queue, the settings; who may use them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import Referral, ReferralCode, ReferralSettings, ReferralStatus

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]
SETTINGS_DATA = {
    "active": "on",
    "advocate_reward": "credit",
    "advocate_points": "150",
    "advocate_credit": "7,50",
    "friend_discount": "12,50",
    "friend_coupon_valid_days": "45",
    "max_referrals_per_ip_week": "5",
}


@pytest.fixture
def code(program, anna_member) -> str:
    services.update_referral_settings(active=True, friend_discount_cents=1000)
    return services.referral_code_for(member=anna_member).code


@pytest.fixture
def suspicious(code, ben) -> Referral:
    referral, _ = services.record_referral(code=code, friend=ben, payment_name="Anna Müller")
    assert referral.status == ReferralStatus.REVIEW
    return referral


def _pages(referral):
    editors = {"owner", "marketer"}
    return {
        "referral_list": (reverse("loyalty:referral_list"), "get", {*editors, "agent"}),
        "referral_settings": (reverse("loyalty:referral_settings"), "get", editors),
        "referral_review": (
            reverse("loyalty:referral_review", args=[referral.pk]),
            "post",
            editors,
        ),
    }


PAGES = ["referral_list", "referral_settings", "referral_review"]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, suspicious, page):
    url, method, _ = _pages(suspicious)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, suspicious, page):
    url, method, _ = _pages(suspicious)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_reaches_exactly_the_referral_pages_it_may_use(
    client_of, request, suspicious, page, role
):
    url, method, allowed = _pages(suspicious)[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    if role in allowed:
        assert response.status_code == (302 if method == "post" else 200)
    else:
        assert response.status_code == 403


# -- The landing page -------------------------------------------------------------------------


def test_the_link_shows_a_friend_the_welcome_discount_without_a_login(client, code):
    response = client.get(reverse("loyalty:referral_landing", args=[code]))
    assert response.status_code == 200
    page = response.content.decode()
    assert code in page and "10,00\xa0€" in page
    assert "Müller" not in page  # nothing about the advocate
    assert ReferralCode.objects.get(code=code).clicks == 1


def test_an_unknown_code_or_switched_off_referrals_are_a_404(client, code):
    assert client.get(reverse("loyalty:referral_landing", args=["NOPE"])).status_code == 404
    services.update_referral_settings(active=False)
    assert client.get(reverse("loyalty:referral_landing", args=[code])).status_code == 404
    assert ReferralCode.objects.get(code=code).clicks == 0


# -- The review queue -------------------------------------------------------------------------


def test_the_queue_shows_waiting_referrals_with_their_reasons(client_of, agent, suspicious, code):
    clean, _ = services.record_referral(code=code, friend=CustomerFactory())
    response = client_of(agent).get(reverse("loyalty:referral_list"))
    assert list(response.context["page"].object_list) == [suspicious]
    assert "Gleicher Name (oder Zahlungsname) wie der Werbende" in response.content.decode()
    everything = client_of(agent).get(reverse("loyalty:referral_list"), {"status": ""})
    assert set(everything.context["page"].object_list) == {suspicious, clean}
    assert response.context["review_form"] is None  # Support looks, Marketing decides
    paged = client_of(agent).get(reverse("loyalty:referral_list"), {"page": "1"})
    assert list(paged.context["page"].object_list) == [suspicious]  # still the queue


def test_marketing_approves_with_a_reason_and_it_is_kept(client_of, marketer, suspicious):
    url = reverse("loyalty:referral_review", args=[suspicious.pk])
    response = client_of(marketer).post(url, {"decision": "approve", "reason": "Geschwister"})
    assert response.status_code == 302
    suspicious.refresh_from_db()
    assert suspicious.status == ReferralStatus.PENDING and suspicious.coupon is not None
    assert (suspicious.reviewed_by, suspicious.review_reason) == (marketer, "Geschwister")
    page = client_of(marketer).get(reverse("loyalty:referral_list"), {"status": "pending"})
    assert "Geschwister" in page.content.decode()


def test_a_review_without_a_reason_changes_nothing(client_of, marketer, suspicious):
    url = reverse("loyalty:referral_review", args=[suspicious.pk])
    response = client_of(marketer).post(url, {"decision": "reject"}, follow=True)
    assert "Grund" in response.content.decode()
    suspicious.refresh_from_db()
    assert suspicious.status == ReferralStatus.REVIEW and suspicious.reviewed_at is None


def test_an_unknown_referral_is_a_404(client_of, marketer, program):
    url = reverse("loyalty:referral_review", args=[999])
    assert client_of(marketer).post(url, {"decision": "approve", "reason": "x"}).status_code == 404


def test_the_queue_needs_the_same_few_queries_for_many_rows(
    client_of, agent, code, django_assert_num_queries
):
    for i in range(6):
        friend = CustomerFactory(first_name="Anna", last_name="Müller", email=f"a{i}@example.org")
        services.record_referral(code=code, friend=friend)
    client = client_of(agent)
    client.get(reverse("loyalty:referral_list"))
    # session, user, groups, permissions (user, group), count, the page (one join), settings
    with django_assert_num_queries(8):
        response = client.get(reverse("loyalty:referral_list"))
    assert len(response.context["page"].object_list) == 6


# -- Settings ---------------------------------------------------------------------------------


def test_marketing_sets_the_amounts_in_euros(client_of, marketer, program):
    response = client_of(marketer).post(reverse("loyalty:referral_settings"), SETTINGS_DATA)
    assert response.status_code == 302
    saved = ReferralSettings.objects.get()
    assert saved.active and saved.advocate_reward == "credit"
    assert (saved.advocate_credit_cents, saved.friend_discount_cents) == (750, 1250)
    assert (saved.advocate_points, saved.friend_coupon_valid_days) == (150, 45)
    form = client_of(marketer).get(reverse("loyalty:referral_settings")).context["form"]
    assert form.initial["friend_discount"] == "12,50"


def test_the_settings_refuse_a_zero_discount_in_german(client_of, marketer, program):
    data = {**SETTINGS_DATA, "friend_discount": "0"}
    response = client_of(marketer).post(reverse("loyalty:referral_settings"), data)
    assert response.status_code == 400
    assert "größer oder gleich 1" in response.context["form"].errors["friend_discount"][0]
    assert not ReferralSettings.objects.exists()
