"""In a real browser: Marketing puts a reward in the catalogue and redeems it for a member."""

from __future__ import annotations

import pytest

from treu.loyalty.models import Coupon
from treu.loyalty.tests.conftest import give_points

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_creates_a_reward_and_redeems_it_for_a_member(
    logged_in_page, live_server, marketer, program, anna_member
):
    from playwright.sync_api import expect

    give_points(anna_member, 300)
    page = logged_in_page(marketer)
    page.goto(f"{live_server.url}/loyalty/rewards/new/")
    page.fill("input[name=name]", "5 € Rabatt")
    page.select_option("select[name=kind]", "fixed_amount")
    page.fill("input[name=points_cost]", "200")
    page.fill("input[name=amount]", "5,00")
    page.get_by_role("button", name="Prämie speichern").click()
    expect(page.locator("table.data")).to_contain_text("5 € Rabatt")
    expect(page.locator("table.data")).to_contain_text("5,00")

    page.goto(f"{live_server.url}/loyalty/members/{anna_member.pk}/")
    page.select_option("select[name=reward]", label="5 € Rabatt (200)")
    page.get_by_role("button", name="Einlösen").click()
    code = Coupon.objects.get().code
    expect(page.locator("#coupons")).to_contain_text(code)
    expect(page.locator(".messages")).to_contain_text(f"Gutschein {code}")


def test_marketing_creates_a_purchase_rule_and_sees_its_example(
    logged_in_page, live_server, marketer, program
):
    from playwright.sync_api import expect

    from treu.loyalty.models import PurchaseRule
    from treu.loyalty.tests.rules import catalogue

    catalogue()
    page = logged_in_page(marketer)
    page.goto(f"{live_server.url}/loyalty/")
    page.get_by_role("link", name="Regeln", exact=True).click()
    page.get_by_role("link", name="Neue Einkaufsregel").click()
    page.fill("input[name=name]", "+50 Bohnen ab 40 €")
    page.get_by_label("Punkte pro Bestellung").check()
    page.fill("input[name=points]", "50")
    page.fill("input[name=min_order]", "40,00")
    page.get_by_label("Kaffeebohnen").check()
    page.get_by_role("button", name="Vorschau").click()
    expect(page.locator("#preview")).to_contain_text("→ 100 Bohnen (ohne die Regel 50)")
    assert not PurchaseRule.objects.exists()
    page.get_by_role("button", name="Regel speichern").click()
    expect(page.locator("table.data")).to_contain_text("+50 Bohnen ab 40 €")
    expect(page.locator("table.data")).to_contain_text("+50 Bohnen pro Bestellung")
    expect(page.locator("table.data")).to_contain_text("Kategorien: Kaffeebohnen")
    rule = PurchaseRule.objects.get()
    assert (rule.points, rule.min_order_cents) == (50, 4000)
