"""In a real browser: Marketing creates an earning rule for a custom event, a mistake in the
event name is shown in German, and staff then record the event for a member."""

from __future__ import annotations

import pytest

from treu.loyalty.models import ActionRule, PointsEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_creates_a_rule_and_records_the_action_for_a_member(
    logged_in_page, live_server, marketer, program, anna_member
):
    from playwright.sync_api import expect

    page = logged_in_page(marketer)
    page.get_by_role("link", name="Punkteregeln: Aktionen").first.click()
    page.get_by_role("link", name="Neue Regel").click()
    page.fill("input[name=name]", "Workshop besucht")
    page.select_option("select[name=trigger]", "custom")
    page.fill("input[name=points]", "40")
    page.fill("input[name=event]", "Workshop besucht")
    page.check("input[name=limit][value=per_year]")
    page.get_by_role("button", name="Regel speichern").click()
    expect(page.locator(".has-error")).to_contain_text("Kleinbuchstaben")
    assert not ActionRule.objects.exists()

    page.fill("input[name=event]", "workshop_besucht")
    page.get_by_role("button", name="Regel speichern").click()
    expect(page.locator("table.data")).to_contain_text("Workshop besucht")
    expect(page.locator("table.data")).to_contain_text("workshop_besucht")
    assert ActionRule.objects.get().event == "workshop_besucht"

    page.goto(f"{live_server.url}/loyalty/members/{anna_member.pk}/")
    page.select_option("#action select[name=action]", "custom")
    page.fill("#action input[name=event]", "workshop_besucht")
    page.fill("#action input[name=reference]", "Mai-2026")
    page.get_by_role("button", name="Aktion erfassen").click()
    expect(page.locator(".messages")).to_contain_text("40 Bohnen gutgeschrieben")
    assert PointsEntry.objects.get(source_rule="custom").points == 40
