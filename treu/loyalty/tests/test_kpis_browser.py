"""In a real browser: Marketing finds the loyalty KPIs in the navigation, drawn without loading
anything from another host (the `page` fixture fails the test if anything is requested)."""

from __future__ import annotations

import pytest

from treu.loyalty.tests.conftest import give_points, make_reward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_opens_the_kpis_from_the_navigation(
    logged_in_page, live_server, marketer, program, anna_member
):
    from playwright.sync_api import expect

    make_reward("store_credit", name="Guthaben 10 €", points_cost=150, amount_cents=1000)
    give_points(anna_member, 300)  # 300 points at 1000 ct / 150 points: 20,00 €
    page = logged_in_page(marketer)
    page.get_by_role("link", name="Kennzahlen Kundenbindung").click()
    expect(page.locator("h1")).to_contain_text("Kennzahlen Kundenbindung")
    expect(page.locator("#kpi-liability")).to_contain_text("20,00")
    expect(page.locator("#kpi-outstanding")).to_contain_text("300")
    expect(page.locator("svg rect.bar.series-1")).to_have_count(12)
    expect(page.locator("#points-by-month tfoot")).to_contain_text("300")
