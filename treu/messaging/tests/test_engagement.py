"""Clicks through the signed redirect, opens only where the customer allowed them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.utils.encoding import iri_to_uri

from treu.messaging import services
from treu.messaging.consent_mail import unsubscribe_urls
from treu.messaging.models import (
    Consent,
    ConsentRecord,
    EventKind,
    MessageEvent,
    MessagePurpose,
    OutboundMessage,
)
from treu.messaging.services import engagement
from treu.messaging.tests.consent.conftest import anna_active, sign_up  # noqa: F401

pytestmark = pytest.mark.django_db

SHOP = "https://roesterei.example.de/bohnen?sorte=äthiopien&x=1"
CLICK = re.compile(r"http://localhost:8000(/m/c/[^/\s\"']+/)")
PIXEL = re.compile(r"http://localhost:8000(/m/o/[^/\s\"']+/)")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://localhost:8000"


def _enqueue(customer, *, purpose=MessagePurpose.MARKETING, key="campaign:7:customer:1"):
    unsubscribe = unsubscribe_urls(customer.pk)["page"]
    services.enqueue_messages(
        [
            services.NewMessage(
                key=key,
                to_email=customer.email,
                customer_id=customer.pk,
                subject="Neue Bohnen",
                text_body=f"Jetzt ansehen: {SHOP}.\nAbmelden: {unsubscribe}\n",
                html_body=(
                    f'<html><body><a href="{SHOP.replace("&", "&amp;")}">Bohnen</a> '
                    f'<a href="{unsubscribe}">Abmelden</a></body></html>'
                ),
                purpose=purpose,
            )
        ]
    )
    return OutboundMessage.objects.get(key=key)


def test_marketing_links_go_through_the_redirect_but_unsubscribe_stays_direct(anna):
    message = _enqueue(anna)
    assert SHOP not in message.text_body and SHOP.replace("&", "&amp;") not in message.html_body
    assert unsubscribe_urls(anna.pk)["page"] in message.text_body
    assert unsubscribe_urls(anna.pk)["page"] in message.html_body
    assert len(CLICK.findall(message.text_body)) == 1 and len(CLICK.findall(message.html_body)) == 1
    # The sentence's full stop stays outside the link.
    assert re.search(r"/m/c/[^/\s]+/\.\n", message.text_body)


def test_a_click_is_recorded_and_redirects_to_the_original_link(anna):
    message = _enqueue(anna)
    path = CLICK.search(message.html_body).group(1)
    response = Client().get(path)
    # The redirect carries the link as a URI (non-ASCII percent-encoded).
    assert response.status_code == 302 and response["Location"] == iri_to_uri(SHOP)
    event = MessageEvent.objects.get()
    assert event.message == message and event.kind == EventKind.CLICK and event.url == SHOP
    assert message.customer_id == anna.pk
    # The text part's link leads to the same place.
    assert Client().get(CLICK.search(message.text_body).group(1))["Location"] == iri_to_uri(SHOP)
    assert MessageEvent.objects.filter(kind=EventKind.CLICK).count() == 2


def test_a_link_check_with_head_redirects_without_counting(anna):
    message = _enqueue(anna)
    response = Client().head(CLICK.search(message.html_body).group(1))
    assert response.status_code == 302 and not MessageEvent.objects.exists()


def test_transactional_mails_are_not_rewritten(anna):
    message = _enqueue(anna, purpose=MessagePurpose.TRANSACTIONAL)
    assert SHOP in message.text_body and not CLICK.search(message.html_body)
    assert not PIXEL.search(message.html_body)


@pytest.mark.parametrize(
    "token",
    [
        "kaputt",
        signing.dumps({"k": "campaign:7:customer:1", "u": "https://evil.example"}, salt="x"),
        signing.dumps(
            {"k": "x", "u": "javascript:alert(1)"}, salt=engagement.CLICK_SALT, compress=True
        ),
    ],
)
def test_a_forged_token_is_no_open_redirect(anna, token):
    message = _enqueue(anna)
    genuine = CLICK.search(message.html_body).group(1).split("/")[3]
    response = Client().get(f"/m/c/{genuine[:-3]}abc/")
    assert response.status_code == 404
    response = Client().get(f"/m/c/{token}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Dieser Link funktioniert nicht" in body and "Location" not in response
    assert not MessageEvent.objects.exists()


def test_no_open_pixel_without_the_customers_permission(anna, anna_active):  # noqa: F811
    message = _enqueue(anna)
    assert not PIXEL.search(message.html_body)
    assert not Consent.objects.get(customer=anna).tracking


def test_the_open_pixel_only_where_allowed_and_opens_only_while_allowed(
    anna,
    anna_active,  # noqa: F811
):
    services.update_preferences(customer=anna, topics=[], frequency="all", tracking=True)
    assert ConsentRecord.objects.order_by("-id")[0].detail["tracking"] is True
    message = _enqueue(anna)
    html = message.html_body
    path = PIXEL.search(html).group(1)
    assert html.index("/m/o/") < html.index("</body>")
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert MessageEvent.objects.get().kind == EventKind.OPEN
    # Withdrawn the permission: the same pixel still loads, but records nothing more.
    services.update_preferences(customer=anna, topics=[], frequency="all", tracking=False)
    assert Client().get(path).status_code == 200
    assert MessageEvent.objects.count() == 1
    assert Client().get("/m/o/kaputt/").status_code == 200
    assert MessageEvent.objects.count() == 1


def test_the_preference_page_offers_open_tracking_unchecked(client, anna, anna_active):  # noqa: F811
    url = urlsplit(unsubscribe_urls(anna.pk)["preferences"]).path
    page = client.get(url).content.decode()
    assert 'name="tracking"' in page and "checked" not in page.split('name="tracking"')[1][:40]
    client.post(url, {"frequency": "all", "tracking": "on"})
    assert Consent.objects.get(customer=anna).tracking
    client.post(url, {"frequency": "all"})
    assert not Consent.objects.get(customer=anna).tracking


def test_clicks_of_an_erased_mail_still_lead_on_but_record_nothing(anna):
    message = _enqueue(anna)
    path = CLICK.search(message.html_body).group(1)
    message.delete()
    assert Client().get(path)["Location"] == iri_to_uri(SHOP)
    assert not MessageEvent.objects.exists()


def test_clicks_and_opens_are_exported_and_erased_with_the_customer(anna):
    from treu.core import privacy

    message = _enqueue(anna)
    Client().get(CLICK.search(message.html_body).group(1))
    exported = privacy.export_customer(anna)
    assert exported["messaging.MessageEvent"] == [
        {
            "message__subject": "Neue Bohnen",
            "kind": "click",
            "at": exported["messaging.MessageEvent"][0]["at"],
            "url": SHOP,
        }
    ]
    assert exported["messaging.OutboundMessage"][0]["delivery_status"] == ""
    privacy.erase_customer(anna)
    assert not MessageEvent.objects.exists() and not OutboundMessage.objects.exists()


def test_unsubscribing_ends_the_permission_to_measure_opens(anna, anna_active):  # noqa: F811
    services.update_preferences(customer=anna, topics=[], frequency="all", tracking=True)
    services.withdraw_consent(customer=anna, method="link")
    assert not Consent.objects.get(customer=anna).tracking
    assert services.customers_allowing_open_tracking([anna.pk]) == set()
