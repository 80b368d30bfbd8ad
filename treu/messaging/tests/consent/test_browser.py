"""In a real browser: a visitor signs up, the confirmation mail is captured, the link in it
confirms, and the back office's proof shows the whole story."""

from __future__ import annotations

import re

import pytest

from treu.core.models import CapturedMail
from treu.messaging.models import Consent, ConsentState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_signs_up_and_confirms_with_the_link_in_the_mail(
    page, logged_in_page, live_server, settings, agent
):
    from playwright.sync_api import expect

    settings.EMAIL_BACKEND = "treu.core.mail.CapturingBackend"
    settings.SITE_URL = live_server.url
    page.goto(f"{live_server.url}/messaging/newsletter/")
    consent_box = page.get_by_role("checkbox")
    expect(consent_box).not_to_be_checked()
    page.get_by_label("E-Mail-Adresse").fill("nele.neu@example.de")
    page.get_by_label("Vorname (freiwillig)").fill("Nele")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.locator(".field.has-error")).to_contain_text("Bitte setzen Sie das Häkchen")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Anmelden").click()
    expect(page.locator("h1")).to_contain_text("Fast geschafft")
    assert Consent.objects.get().state == ConsentState.PENDING

    mail = CapturedMail.objects.get()
    assert mail.subject == "Bitte bestätigen Sie Ihre Newsletter-Anmeldung"
    link = re.search(r"http://\S+/bestaetigen/\S+/", mail.text_body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Ja, ich möchte den Newsletter").click()
    expect(page.locator("h1")).to_contain_text("Sie sind angemeldet")
    consent = Consent.objects.get()
    assert consent.state == ConsentState.ACTIVE
    assert consent.records.filter(action="confirmed", ip="127.0.0.1").exists()

    page.goto(link)  # the same link again explains itself
    expect(page.locator("h1")).to_contain_text("Bereits bestätigt")

    staff = logged_in_page(agent)
    staff.goto(f"{live_server.url}/messaging/consent/customers/{consent.customer_id}/")
    expect(staff.locator("table.data")).to_contain_text("Bestätigt")
    expect(staff.locator("table.data")).to_contain_text("127.0.0.1")
