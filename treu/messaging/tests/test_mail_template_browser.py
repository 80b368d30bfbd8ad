"""In a real browser (the editor has no script of its own): Marketing builds a mail from
blocks, previews it for a customer and sends a test; nothing is requested from another host
(the `page` fixture fails on any)."""

from __future__ import annotations

import pytest

from treu.customers.tests.factories import CustomerFactory
from treu.messaging.models import MailTemplate, OutboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_builds_previews_and_test_sends_a_mail(
    logged_in_page, live_server, marketer, settings
):
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    CustomerFactory(first_name="Anna", email="anna@example.de")
    page = logged_in_page(marketer)
    page.get_by_role("link", name="E-Mail-Vorlagen").click()
    page.get_by_role("link", name="Neue Vorlage").click()
    page.locator("#id_name").fill("Herbst")
    page.locator("#id_subject").fill('Hallo {{ vorname|default:"ihr Lieben" }}')
    page.get_by_label("Neuer Block").select_option("heading")
    page.get_by_role("button", name="Block hinzufügen").click()
    page.get_by_label("Neuer Block").select_option("text")
    page.get_by_role("button", name="Block hinzufügen").click()
    page.locator("input[name='b-0-text']").fill("Neue Ernte")
    page.locator("textarea[name='b-1-text']").fill("Hallo {{ vorname }}, **frisch** da.")
    # Move the text above the heading and back: the typed texts travel with their blocks.
    page.get_by_role("button", name="Nach oben").click()
    expect(page.locator("textarea[name='b-0-text']")).to_have_value(
        "Hallo {{ vorname }}, **frisch** da."
    )
    page.get_by_role("button", name="Nach unten").click()
    page.get_by_role("button", name="Vorlage speichern").click()
    expect(page.get_by_text("Vorlage gespeichert.")).to_be_visible()
    assert MailTemplate.objects.get(name="Herbst").blocks[0]["type"] == "heading"

    page.get_by_role("link", name="Vorschau und Testversand").click()
    page.get_by_label("Kunde (Nummer oder E-Mail)").fill("anna@example.de")
    page.get_by_role("button", name="Vorschau zeigen").click()
    frame = page.frame_locator("iframe")
    expect(frame.locator("h1")).to_have_text("Neue Ernte")
    expect(frame.locator("strong")).to_have_text("frisch")
    expect(page.locator("pre")).to_contain_text("Hallo Anna, frisch da.")
    page.get_by_role("button", name="Test-E-Mail senden").click()
    expect(page.get_by_text("liegt im Postausgang")).to_be_visible()
    assert OutboundMessage.objects.get().subject == "[Test] Hallo Anna"
