"""Back-office pages of the catalogue: rewards, partner codes, redemptions, redeeming."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import PartnerCode, Redemption, Reward
from treu.loyalty.tests.conftest import give_points, make_reward

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier"]
REWARD_DATA = {
    "name": "5 € Rabatt",
    "description": "Auf den nächsten Einkauf",
    "kind": "fixed_amount",
    "points_cost": "200",
    "active": "on",
    "coupon_valid_days": "60",
    "amount": "5,00",
    "from_day": "2026-12-01",
    "until_day": "2026-12-31",
}


def _pages(member, reward):
    editors = {"owner", "marketer"}
    viewers = {"owner", "marketer", "agent"}
    return {
        "reward_list": (reverse("loyalty:reward_list"), "get", viewers),
        "reward_create": (reverse("loyalty:reward_create"), "get", editors),
        "reward_edit": (reverse("loyalty:reward_edit", args=[reward.pk]), "get", editors),
        "reward_codes": (reverse("loyalty:reward_codes", args=[reward.pk]), "post", editors),
        "redemption_list": (reverse("loyalty:redemption_list"), "get", viewers),
        "member_redeem": (reverse("loyalty:member_redeem", args=[member.pk]), "post", editors),
    }


PAGES = [
    "reward_list", "reward_create", "reward_edit", "reward_codes", "redemption_list",
    "member_redeem",
]  # fmt: skip
POSTED_EMPTY = {"reward_codes", "member_redeem"}


@pytest.fixture
def partner(program):
    return make_reward("partner")


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_visitors_to_the_login(client, anna_member, partner, page):
    url, method, _ = _pages(anna_member, partner)[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("page", PAGES)
def test_it_refuses_users_without_a_role(client_of, outsider, anna_member, partner, page):
    url, method, _ = _pages(anna_member, partner)[page]
    assert getattr(client_of(outsider), method)(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_reaches_exactly_the_reward_pages_it_may_use(
    client_of, request, anna_member, partner, page, role
):
    url, method, allowed = _pages(anna_member, partner)[page]
    response = getattr(client_of(request.getfixturevalue(role)), method)(url)
    if role in allowed:
        assert response.status_code == (400 if page in POSTED_EMPTY else 200)
    else:
        assert response.status_code == 403


def test_marketing_creates_a_reward_in_euros_and_days(client_of, marketer, program):
    response = client_of(marketer).post(reverse("loyalty:reward_create"), REWARD_DATA)
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert (reward.amount_cents, reward.points_cost, reward.coupon_valid_days) == (500, 200, 60)
    assert timezone.localtime(reward.available_from).isoformat() == "2026-12-01T00:00:00+01:00"
    assert timezone.localtime(reward.available_until).isoformat() == "2027-01-01T00:00:00+01:00"


def test_the_edit_form_shows_euros_and_the_last_day(client_of, marketer, program):
    client_of(marketer).post(reverse("loyalty:reward_create"), REWARD_DATA)
    reward = Reward.objects.get()
    response = client_of(marketer).get(reverse("loyalty:reward_edit", args=[reward.pk]))
    form = response.context["form"]
    assert form.initial["amount"] == "5,00"
    assert str(form.initial["until_day"]) == "2026-12-31"


def test_the_reward_form_shows_german_errors_per_field(client_of, marketer, program):
    data = {**REWARD_DATA, "kind": "percent", "amount": "viel", "percent": ""}
    response = client_of(marketer).post(reverse("loyalty:reward_create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["amount"] == ["Bitte geben Sie einen Betrag in Euro ein, z. B. 4,90."]
    data["amount"] = ""
    response = client_of(marketer).post(reverse("loyalty:reward_create"), data)
    assert response.context["form"].errors["percent"] == [
        "Geben Sie einen Prozentsatz zwischen 1 und 100 an."
    ]
    assert not Reward.objects.exists()


def test_partner_codes_are_pasted_on_the_reward_page(client_of, marketer, partner):
    url = reverse("loyalty:reward_codes", args=[partner.pk])
    response = client_of(marketer).post(url, {"codes": "KORN-1\nKORN-2\nKORN-1"})
    assert response.status_code == 302
    assert PartnerCode.objects.filter(reward=partner).count() == 2
    page = client_of(marketer).get(reverse("loyalty:reward_edit", args=[partner.pk]))
    assert "2 von 2 Codes noch nicht ausgegeben." in page.content.decode()


def test_staff_redeem_a_reward_for_a_member_and_see_the_coupon(
    client_of, marketer, rich_anna, program
):
    reward = make_reward(points_cost=300)
    client = client_of(marketer)
    url = reverse("loyalty:member_redeem", args=[rich_anna.pk])
    response = client.post(url, {"reward": reward.pk})
    assert response.status_code == 302
    redemption = Redemption.objects.get()
    assert redemption.staff_user == marketer and redemption.source == "backoffice"
    page = client.get(reverse("loyalty:member_detail", args=[rich_anna.pk])).content.decode()
    assert redemption.coupon.code in page


def test_redeeming_without_enough_points_shows_why(client_of, marketer, anna_member):
    reward = make_reward(points_cost=300)
    url = reverse("loyalty:member_redeem", args=[anna_member.pk])
    response = client_of(marketer).post(url, {"reward": reward.pk})
    assert response.status_code == 400
    assert "Nicht genug Bohnen: 0 verfügbar." in response.content.decode()
    assert not Redemption.objects.exists()


def test_the_redemption_list_finds_a_coupon_by_code_as_typed(client_of, agent, rich_anna):
    reward = make_reward(points_cost=10)
    coupons = [services.redeem_reward(member=rich_anna, reward=reward).coupon for _ in range(3)]
    wanted = coupons[1].code
    response = client_of(agent).get(
        reverse("loyalty:redemption_list"), {"q": wanted.lower().replace("-", " ")}
    )
    found = [r.coupon.code for r in response.context["page"].object_list]
    assert found == [wanted]


def test_the_redemption_list_needs_the_same_few_queries_for_many_rows(
    client_of, agent, program, django_assert_num_queries
):
    rewards = [make_reward(points_cost=10), make_reward("store_credit", points_cost=10)]
    for _ in range(6):
        member = give_points(services.join_program(customer=CustomerFactory()), 50)
        for reward in rewards:
            services.redeem_reward(member=member, reward=reward)
    client = client_of(agent)
    client.get(reverse("loyalty:redemption_list"))
    # session, user, groups, permissions (user, group), count, settings, the page (one join)
    with django_assert_num_queries(8):
        response = client.get(reverse("loyalty:redemption_list"))
    assert len(response.context["page"].object_list) == 12


def test_an_unknown_reward_is_a_404(client_of, marketer, program):
    assert client_of(marketer).get(reverse("loyalty:reward_edit", args=[999])).status_code == 404


def test_the_reward_list_needs_the_same_few_queries_for_many_rewards(
    client_of, marketer, program, django_assert_num_queries
):
    for kind in ("fixed_amount", "percent", "experience", "partner", "partner"):
        reward = make_reward(kind)
        if kind == "partner":
            services.add_partner_codes(reward=reward, text="A\nB\nC")
    client = client_of(marketer)
    client.get(reverse("loyalty:reward_list"))
    # session, user, groups, permissions (user, group), rewards with their codes left, the
    # tiers they are reserved for, settings
    with django_assert_num_queries(8):
        response = client.get(reverse("loyalty:reward_list"))
    assert response.content.decode().count("noch 3 Codes") == 2


def test_partner_codes_come_from_an_uploaded_file_too(client_of, marketer, partner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("korn.csv", "\ufeffKORN-7\r\nKORN-8\r\n".encode(), "text/csv")
    url = reverse("loyalty:reward_codes", args=[partner.pk])
    response = client_of(marketer).post(url, {"codes": "KORN-9", "file": upload})
    assert response.status_code == 302
    codes = PartnerCode.objects.filter(reward=partner).values_list("code", flat=True)
    assert sorted(codes) == ["KORN-7", "KORN-8", "KORN-9"]


def test_a_file_that_is_not_text_is_refused_in_german(client_of, marketer, partner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("codes.xlsx", b"PK\x03\x04\xff\xfe", "application/zip")
    url = reverse("loyalty:reward_codes", args=[partner.pk])
    response = client_of(marketer).post(url, {"file": upload})
    assert response.status_code == 400
    assert "keine UTF-8-Textdatei" in response.content.decode()
    assert not PartnerCode.objects.exists()
