"""In a real browser: Marketing switches the birthday automation on from the list."""

from __future__ import annotations

import pytest

from treu.messaging.models import Flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_switches_a_flow_on(logged_in_page, marketer):
    from playwright.sync_api import expect

    page = logged_in_page(marketer)
    page.get_by_role("link", name="Automationen").click()
    page.locator("[data-flow-switch='birthday']").click()
    expect(page.get_by_role("status")).to_contain_text("ist eingeschaltet")
    assert Flow.objects.get(default_key="birthday").active
    page.get_by_role("link", name="Geburtstag mit Gutschein").click()
    expect(page.locator("h1")).to_contain_text("Geburtstag mit Gutschein")
    expect(page.get_by_role("button", name="Ausschalten")).to_be_visible()
