"""The purchase rule pages (Kundenbindung → Regeln) and who may use them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.loyalty import services
from treu.loyalty.models import PurchaseRule
from treu.loyalty.tests.rules import ESPRESSO, MUG, buy, catalogue, make_rule

pytestmark = pytest.mark.django_db

ROLES = ["owner", "marketer", "agent", "cashier", "outsider"]
EDITORS = {"owner", "marketer"}
RULE_DATA = {
    "name": "Doppelte Punkte im Dezember",
    "active": "on",
    "kind": "multiplier",
    "multiplier": "2",
    "skus": "",
    "min_order": "",
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
    "limit": "unlimited",
}


@pytest.fixture
def shop_catalogue(db):
    return catalogue()


@pytest.fixture
def rule(program, shop_catalogue):
    return make_rule()


def _pages(rule):
    return {
        "list": reverse("loyalty:purchase_rules"),
        "new": reverse("loyalty:purchase_rule_new"),
        "edit": reverse("loyalty:purchase_rule_edit", args=[rule.pk]),
    }


@pytest.mark.parametrize("page", ["list", "new", "edit"])
def test_it_sends_anonymous_visitors_to_the_login(client, rule, page):
    response = client.get(_pages(rule)[page])
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["list", "new", "edit"])
def test_only_owner_and_marketing_see_and_change_rules(client_of, request, rule, page, role):
    response = client_of(request.getfixturevalue(role)).get(_pages(rule)[page])
    assert response.status_code == (200 if role in EDITORS else 403)


@pytest.mark.parametrize("role", ["agent", "cashier", "outsider"])
def test_others_cannot_create_or_switch_off_a_rule(client_of, request, rule, role):
    client = client_of(request.getfixturevalue(role))
    assert client.post(reverse("loyalty:purchase_rule_new"), RULE_DATA).status_code == 403
    edit = reverse("loyalty:purchase_rule_edit", args=[rule.pk])
    assert client.post(edit, {"deactivate": "1"}).status_code == 403
    assert PurchaseRule.objects.get().active


def test_marketing_creates_a_rule_with_german_numbers(client_of, marketer, program, shop_catalogue):
    data = {**RULE_DATA, "kind": "per_order", "points": "50", "multiplier": "",
            "min_order": "40,00", "skus": f"{ESPRESSO} {MUG}", "limit": "once",
            "categories": [shop_catalogue["beans"].pk]}  # fmt: skip
    response = client_of(marketer).post(reverse("loyalty:purchase_rule_new"), data)
    assert response.status_code == 302
    rule = PurchaseRule.objects.get()
    assert (rule.kind, rule.points, rule.min_order_cents, rule.limit) == (
        "per_order", 50, 4000, "once",
    )  # fmt: skip
    assert rule.skus == [ESPRESSO, MUG]
    assert list(rule.categories.all()) == [shop_catalogue["beans"]]
    listed = client_of(marketer).get(reverse("loyalty:purchase_rules")).content.decode()
    assert "Doppelte Punkte im Dezember" in listed and "+50 Bohnen pro Bestellung" in listed


def test_a_multiplier_is_read_with_a_decimal_comma(client_of, owner, program, shop_catalogue):
    data = {**RULE_DATA, "multiplier": "1,5"}
    assert client_of(owner).post(reverse("loyalty:purchase_rule_new"), data).status_code == 302
    assert PurchaseRule.objects.get().multiplier == Decimal("1.5")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_on": "2026-11-30"}, "ends_on", "Das Ende liegt vor dem Beginn."),
        ({"multiplier": "1"}, "multiplier", "mehr als 1"),
        ({"multiplier": "0,5"}, "multiplier", "mehr als 1"),
        ({"skus": f"{ESPRESSO}, KAFFE-TYPO"}, "skus", "KAFFE-TYPO"),
        ({"categories": ["987654"]}, "categories", "987654"),
        ({"kind": "per_item", "multiplier": "", "points": ""}, "points", "ganze Zahl"),
        ({"min_order": "viel"}, "min_order", "Betrag in Euro"),
        ({"min_order": "-5"}, "min_order", "negativ"),
    ],
)
def test_it_refuses_bad_rules_with_a_clear_german_message(
    client_of, marketer, program, shop_catalogue, changes, field, message
):
    response = client_of(marketer).post(
        reverse("loyalty:purchase_rule_new"), {**RULE_DATA, **changes}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors, errors
    assert message in response.content.decode()
    assert not PurchaseRule.objects.exists()


def test_the_preview_shows_an_example_and_saves_nothing(client_of, marketer, shop_catalogue):
    from treu.loyalty.tests.conftest import start_program

    start_program(point_name="Bohnen", points_per_euro="1.5")
    data = {**RULE_DATA, "preview": "1"}
    response = client_of(marketer).post(reverse("loyalty:purchase_rule_new"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Beispiel: Bestellung über 50,00" in content and "→ 150 Bohnen" in content
    assert response.context["example"].with_rule == 150
    assert response.context["example"].without_rule == 75
    assert not PurchaseRule.objects.exists()


def test_marketing_switches_a_rule_off(client_of, marketer, rule):
    edit = reverse("loyalty:purchase_rule_edit", args=[rule.pk])
    assert client_of(marketer).post(edit, {"deactivate": "1"}).status_code == 302
    assert not PurchaseRule.objects.get().active


def test_a_rule_that_gave_points_keeps_what_it_gives(
    client_of, marketer, rule, anna_member, anna, after_commit
):
    with after_commit():
        buy(anna, (ESPRESSO, 1, 1000))
    edit = reverse("loyalty:purchase_rule_edit", args=[rule.pk])
    page = client_of(marketer).get(edit)
    assert page.context["example"] is not None
    data = {**RULE_DATA, "starts_on": "2020-01-01", "ends_on": "", "multiplier": "3"}
    refused = client_of(marketer).post(edit, data)
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors()
    assert PurchaseRule.objects.get().multiplier == 2
    renamed = {**data, "multiplier": "2", "name": "Doppelt", "ends_on": str(date(2030, 1, 1))}
    assert client_of(marketer).post(edit, renamed).status_code == 302
    assert PurchaseRule.objects.get().name == "Doppelt"


def test_the_rule_list_needs_the_same_queries_for_many_rules(
    client_of, marketer, rule, shop_catalogue, django_assert_num_queries
):
    client = client_of(marketer)
    url = reverse("loyalty:purchase_rules")
    client.get(url)
    gold = services.save_tier(name="Gold", rank=1, threshold=0)
    for n in range(5):
        make_rule(name=f"Regel {n}", categories=[shop_catalogue["beans"]], eligible_tiers=[gold],
                  ends_on=timezone.localdate() + timedelta(days=n))  # fmt: skip
    # session, user, groups, permissions (user + group), settings, rules, categories, tiers
    with django_assert_num_queries(9):
        response = client.get(url)
    assert "Regel 4" in response.content.decode()


def test_an_unknown_rule_is_a_404(client_of, owner, program):
    assert (
        client_of(owner).get(reverse("loyalty:purchase_rule_edit", args=[999])).status_code == 404
    )


def test_the_members_page_links_to_the_rules_for_marketing(client_of, marketer, agent, program):
    link = reverse("loyalty:purchase_rules")
    assert link in client_of(marketer).get(reverse("loyalty:member_list")).content.decode()
    assert link not in client_of(agent).get(reverse("loyalty:member_list")).content.decode()
