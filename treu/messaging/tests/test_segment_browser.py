"""In a real browser: Marketing builds a segment and the count follows the typing (the
editor's small script), without anything loaded from another host."""

from __future__ import annotations

import pytest

from treu.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_count_follows_the_rules_as_marketing_types(logged_in_page, live_server, marketer):
    from playwright.sync_api import expect

    for orders in (1, 2, 3, 5):
        CustomerFactory(order_count=orders)
    page = logged_in_page(marketer)
    page.get_by_role("link", name="Segmente").click()
    page.get_by_role("link", name="Neues Segment").click()
    page.wait_for_load_state("load")  # the deferred script listens from here on
    page.get_by_label("Name").fill("Mehrfachkäufer")
    page.get_by_label("Zahl").fill("2")
    expect(page.locator("[data-count]")).to_contain_text("3 Kundinnen und Kunden")
    page.get_by_label("Zahl").fill("5")
    expect(page.locator("[data-count]")).to_contain_text("1 Kundin oder Kunde")
    # Another field: the page comes back with that field's comparisons, without an error.
    page.get_by_role("button", name="Bedingung hinzufügen").click()
    page.locator("select[name='g-0-c-1-field']").select_option("total_spent")
    expect(page.locator("input[name='g-0-c-1-value']")).to_have_attribute("placeholder", "25,00")
    expect(page.locator(".errorlist")).to_have_count(0)
    page.wait_for_load_state("load")
    page.locator("input[name='g-0-c-1-value']").fill("1000,00")
    expect(page.locator("[data-count]")).to_contain_text("0 Kundinnen und Kunden")
    page.get_by_role("button", name="Entfernen").nth(1).click()
    page.get_by_role("button", name="Segment speichern").click()
    expect(page.locator("h1")).to_contain_text("Mehrfachkäufer")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
