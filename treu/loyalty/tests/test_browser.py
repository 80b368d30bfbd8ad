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
