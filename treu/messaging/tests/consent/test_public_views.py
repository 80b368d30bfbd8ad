"""The public pages: sign-up (own page and embedded form), confirmation, unsubscribe with
the RFC 8058 one-click POST, reason and preferences. No login anywhere."""

from __future__ import annotations

import pytest
from django.test import Client

from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.messaging import services
from treu.messaging.consent_mail import marketing_message, unsubscribe_urls
from treu.messaging.consent_tokens import unsubscribe_token
from treu.messaging.models import Consent, ConsentRecord, ConsentState
from treu.messaging.tests.consent.conftest import deliver, sign_up, token_of, wording

pytestmark = pytest.mark.django_db


def form(**fields):
    data = {"email": "nele@example.de", "consent": "on", "text_version": wording().version}
    data.update(fields)
    return data


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


# -- Sign-up -----------------------------------------------------------------------------------


def test_the_sign_up_page_starts_with_unchecked_boxes(client, topics):
    response = client.get("/messaging/newsletter/")
    html = response.content.decode()
    assert response.status_code == 200
    assert wording().wording in html
    assert "checked" not in html
    assert html.count('type="checkbox"') == 4  # three topics and the consent


def test_signing_up_on_the_own_page_sends_the_mail_and_says_what_comes_next(client, mailoutbox):
    response = client.post("/messaging/newsletter/", form(), REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302
    assert response["Location"] == "/messaging/newsletter/danke/"
    consent = Consent.objects.get()
    assert (consent.state, consent.source) == (ConsentState.PENDING, "page")
    assert ConsentRecord.objects.get(action="signup").ip == "198.51.100.20"
    deliver()  # the worker, after the commit
    assert len(mailoutbox) == 1
    page = client.get(response["Location"]).content.decode()
    assert "bitte schauen Sie in Ihr Postfach" in page


def test_the_consent_box_must_be_ticked(client, mailoutbox):
    response = client.post("/messaging/newsletter/", form(consent=""))
    assert response.status_code == 400
    assert "Bitte setzen Sie das Häkchen" in response.content.decode()
    assert not Customer.objects.exists()
    assert not mailoutbox


def test_an_invalid_address_gets_a_german_error(client, mailoutbox):
    response = client.post("/messaging/newsletter/", form(email="nele@"))
    assert response.status_code == 400
    assert "Bitte geben Sie eine gültige E-Mail-Adresse an" in response.content.decode()
    assert not Consent.objects.exists()


def test_the_own_page_needs_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/messaging/newsletter/", form()).status_code == 403
    assert not Consent.objects.exists()


def test_the_embedded_form_posts_from_another_site_without_a_csrf_token(mailoutbox):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/messaging/newsletter/extern/",
        form(topics=[]),
        HTTP_ORIGIN="https://shop.example.de",
        REMOTE_ADDR="198.51.100.21",
    )
    assert response.status_code == 302
    assert Consent.objects.get().source == "embed"
    deliver()  # the worker, after the commit
    assert len(mailoutbox) == 1


def test_the_embedded_form_takes_only_posts(client):
    assert client.get("/messaging/newsletter/extern/").status_code == 405


def test_a_filled_honeypot_looks_like_success_and_does_nothing(client, mailoutbox):
    response = client.post("/messaging/newsletter/extern/", form(website="http://spam.example"))
    assert response.status_code == 302
    assert not Customer.objects.exists()
    assert not mailoutbox


def test_too_many_sign_ups_from_one_address_are_refused_in_german(client, settings, mailoutbox):
    settings.TREU_CONSENT_SIGNUPS_PER_IP_HOUR = 1
    client.post("/messaging/newsletter/extern/", form(), REMOTE_ADDR="198.51.100.22")
    response = client.post(
        "/messaging/newsletter/extern/", form(email="b@example.de"), REMOTE_ADDR="198.51.100.22"
    )
    assert response.status_code == 400
    assert "sehr viele Anmeldungen" in response.content.decode()
    assert Consent.objects.count() == 1


# -- Confirmation ------------------------------------------------------------------------------


def test_opening_the_link_asks_and_the_button_confirms(client, anna, mailoutbox):
    token = token_of(sign_up(anna) and mailoutbox[0])
    url = f"/messaging/newsletter/bestaetigen/{token}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "anna.mueller@example.de" in page.content.decode()
    assert Consent.objects.get().state == ConsentState.PENDING  # a mail scanner opening it
    response = client.post(url, REMOTE_ADDR="203.0.113.30")
    assert response.status_code == 200
    assert "Sie sind angemeldet" in response.content.decode()
    assert Consent.objects.get().state == ConsentState.ACTIVE
    assert ConsentRecord.objects.get(action="confirmed").ip == "203.0.113.30"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_link_explains_itself(client, anna, mailoutbox, method):
    sign_up(anna)
    response = getattr(client, method)("/messaging/newsletter/bestaetigen/ausgedacht/")
    assert response.status_code == 400
    assert "nicht gültig" in response.content.decode()
    assert Consent.objects.get().state == ConsentState.PENDING


def test_a_reused_link_explains_itself(client, anna, mailoutbox):
    token = sign_up(anna).token
    url = f"/messaging/newsletter/bestaetigen/{token}/"
    client.post(url)
    response = client.post(url)
    assert response.status_code == 400
    assert "bereits bestätigt" in response.content.decode()
    assert ConsentRecord.objects.filter(action="confirmed").count() == 1


def test_an_expired_link_explains_itself(client, anna, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    token = sign_up(anna, now=timezone.now() - timedelta(days=31)).token
    response = client.get(f"/messaging/newsletter/bestaetigen/{token}/")
    assert response.status_code == 400
    assert "abgelaufen" in response.content.decode()
    assert client.post(f"/messaging/newsletter/bestaetigen/{token}/").status_code == 400
    assert Consent.objects.get().state == ConsentState.PENDING


# -- Marketing mails and unsubscribing ---------------------------------------------------------


def test_every_marketing_mail_carries_the_link_and_the_one_click_headers(anna_active, anna):
    message = marketing_message(
        customer=anna,
        subject="Neue Röstung",
        text="Hallo Anna, es gibt Neues.",
        html="<html><body><p>Hallo Anna</p></body></html>",
    )
    urls = unsubscribe_urls(anna.pk)
    assert message.extra_headers["List-Unsubscribe"] == f"<{urls['one_click']}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert urls["page"] in message.body
    html = message.alternatives[0][0]
    assert urls["page"] in html and html.index(urls["page"]) < html.index("</body>")
    assert "widersprechen" not in message.body


def test_mails_under_the_existing_customer_basis_carry_the_objection_notice(ben):
    from treu.customers.models import Customer as C

    C.objects.filter(pk=ben.pk).update(order_count=1)
    ben.refresh_from_db()
    consent = services.record_existing_customer_basis(customer=ben, source="checkout")
    message = marketing_message(customer=ben, subject="x", text="y", consent=consent)
    assert "jederzeit widersprechen" in message.body


def test_the_rfc_8058_post_unsubscribes_without_login_or_csrf(anna_active, anna):
    client = Client(enforce_csrf_checks=True)
    url = path_of(unsubscribe_urls(anna.pk)["one_click"])
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="192.0.2.40",
    )
    assert response.status_code == 200
    consent = Consent.objects.get(customer=anna)
    assert consent.state == ConsentState.WITHDRAWN
    record = ConsentRecord.objects.get(action="withdrawn")
    assert (record.method, record.ip) == ("one_click", "192.0.2.40")
    assert client.post(url).status_code == 200  # a mail program retrying: still fine
    assert ConsentRecord.objects.filter(action="withdrawn").count() == 1
    assert DomainEvent.objects.filter(kind="consent.withdrawn").count() == 1


def test_a_forged_one_click_token_changes_nothing(anna_active, anna):
    token = unsubscribe_token(anna.pk, "email")
    forged = token.replace(f"{anna.pk}.", f"{anna.pk + 1}.")
    response = Client().post(f"/messaging/newsletter/abmelden/{forged}/one-click/")
    assert response.status_code == 404
    assert Consent.objects.get(customer=anna).state == ConsentState.ACTIVE


def test_the_visible_link_unsubscribes_with_one_click_and_asks_why(client, anna_active, anna):
    url = path_of(unsubscribe_urls(anna.pk)["page"])
    page = client.get(url)
    assert "Jetzt abmelden" in page.content.decode()
    assert Consent.objects.get(customer=anna).state == ConsentState.ACTIVE
    response = client.post(url)
    assert response.status_code == 302
    assert Consent.objects.get(customer=anna).state == ConsentState.WITHDRAWN
    assert ConsentRecord.objects.get(action="withdrawn").method == "link"
    reason_page = client.get(response["Location"])
    assert "Sie wurden abgemeldet" in reason_page.content.decode()
    thanks = client.post(response["Location"], {"reason": "too_many", "other": "  "})
    assert "Danke für Ihre Rückmeldung" in thanks.content.decode()
    last = ConsentRecord.objects.order_by("-id")[0]
    assert (last.action, last.reason) == ("withdrawn", "Zu viele E-Mails")


def test_the_reason_form_validates_in_german(client, anna_active, anna):
    url = path_of(unsubscribe_urls(anna.pk)["page"])
    client.post(url)
    response = client.post(f"{url}grund/", {"reason": ""})
    assert response.status_code == 400
    assert "Bitte wählen Sie einen Grund." in response.content.decode()


def test_a_forged_unsubscribe_link_is_not_found(client):
    assert client.get("/messaging/newsletter/abmelden/1.email:kaputt/").status_code == 404
    assert client.get("/messaging/newsletter/einstellungen/1.email:kaputt/").status_code == 404


def test_the_preference_page_saves_topics_and_frequency(client, anna_active, anna, topics):
    url = path_of(unsubscribe_urls(anna.pk)["preferences"])
    page = client.get(url).content.decode()
    assert "Kaffeewissen" in page and "Höchstens monatlich" in page
    response = client.post(url, {"topics": [topics[2].pk], "frequency": "monthly"})
    assert response.status_code == 200
    assert "gespeichert" in response.content.decode()
    consent = Consent.objects.get(customer=anna)
    assert consent.frequency == "monthly"
    assert list(consent.topics.all()) == [topics[2]]
    assert consent.state == ConsentState.ACTIVE


def test_the_preference_page_validates_in_german(client, anna_active, anna):
    url = path_of(unsubscribe_urls(anna.pk)["preferences"])
    response = client.post(url, {"frequency": "daily"})
    assert response.status_code == 400
    assert "gültige Auswahl" in response.content.decode()
    assert Consent.objects.get(customer=anna).frequency == "all"
