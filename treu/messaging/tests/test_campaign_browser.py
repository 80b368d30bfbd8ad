"""In a real browser: Marketing creates a campaign, sees its audience, sends it and reads
the results — without anything loaded from another host."""

from __future__ import annotations

import pytest

from treu.messaging.models import Campaign, OutboundMessage
from treu.messaging.tests.campaign_world import everyone
from treu.messaging.tests.sending_world import consenting_customer, newsletter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_creates_and_sends_a_campaign(logged_in_page, live_server, marketer):
    from playwright.sync_api import expect

    for _ in range(3):
        consenting_customer()
    from treu.customers.tests.factories import CustomerFactory

    CustomerFactory()  # in the segment, but no newsletter consent
    segment = everyone()
    from treu.messaging.segments.services import refresh_segment

    refresh_segment(segment.pk)
    newsletter()
    page = logged_in_page(marketer)
    page.get_by_role("link", name="Kampagnen").click()
    page.get_by_role("link", name="Neue Kampagne").click()
    page.get_by_label("Name").fill("Frühlingskaffee")
    page.locator("select[name='segment']").select_option(label="Alle")
    page.locator("select[name='mail_template']").select_option(label="Kaffee des Monats")
    page.get_by_label("Kontrollgruppe (%)").fill("0")
    page.get_by_role("button", name="Anzahl aktualisieren").click()
    expect(page.locator("[data-members]")).to_have_text("4")
    expect(page.locator("[data-reachable]")).to_have_text("3")
    expect(page.locator("[data-mailed]")).to_have_text("3")
    page.get_by_role("button", name="Kampagne speichern").click()
    expect(page.locator("h1")).to_contain_text("Frühlingskaffee")
    expect(page.locator(".sub .badge")).to_have_text("Entwurf")
    page.get_by_role("button", name="Jetzt senden").click()
    expect(page.locator(".messages")).to_contain_text("Die Kampagne wird gesendet.")
    expect(page.locator(".sub .badge")).to_have_text("Gesendet")
    expect(page.locator("#results")).to_contain_text("Gesamt")
    campaign = Campaign.objects.get()
    assert OutboundMessage.objects.filter(key__startswith=f"{campaign.prefix}:").count() == 3
    expect(page.locator("[data-sent]")).to_have_text("3")
