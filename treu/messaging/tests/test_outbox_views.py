"""The outbox pages: who sees them, sending an unclear mail again, blocking addresses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.messaging import services
from treu.messaging.models import MessageStatus, OutboundMessage, Suppression, SuppressionReason
from treu.messaging.services import outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def unclear(db):
    services.enqueue_messages(
        [
            services.NewMessage(
                key="k1", to_email="anna@example.de", subject="Neu bei uns", text_body="Hallo"
            )
        ]
    )
    OutboundMessage.objects.update(status=MessageStatus.UNCLEAR, last_error="abgebrochen")
    return OutboundMessage.objects.get()


def test_marketing_and_support_see_the_outbox_cashiers_do_not(
    client_of, marketer, agent, cashier, unclear
):
    for user in (marketer, agent):
        body = client_of(user).get(reverse("messaging:outbox")).content.decode()
        assert "Neu bei uns" in body and "Zustellung unklar" in body
    assert client_of(cashier).get(reverse("messaging:outbox")).status_code == 403


def test_the_status_filter_lists_only_that_status(client_of, marketer, unclear):
    body = client_of(marketer).get(reverse("messaging:outbox") + "?status=sent").content.decode()
    assert "Neu bei uns" not in body and "Hier sind keine E-Mails." in body
    body = client_of(marketer).get(reverse("messaging:outbox") + "?status=kaputt").content.decode()
    assert "Neu bei uns" in body  # an unknown status shows everything


def test_an_unclear_mail_is_sent_again_by_marketing_not_by_support(
    client_of, marketer, agent, unclear
):
    url = reverse("messaging:outbox_resend", args=[unclear.pk])
    assert client_of(agent).post(url).status_code == 403
    response = client_of(marketer).post(url)
    assert response.status_code == 302 and response["Location"].endswith("?status=unclear")
    unclear.refresh_from_db()
    assert (unclear.status, unclear.attempts, unclear.last_error) == (MessageStatus.QUEUED, 0, "")
    assert services.send_due_messages().sent == 1


def test_a_sent_mail_cannot_be_sent_again(client_of, marketer, unclear):
    OutboundMessage.objects.update(status=MessageStatus.SENT)
    response = client_of(marketer).post(
        reverse("messaging:outbox_resend", args=[unclear.pk]), follow=True
    )
    assert "Nur unklare oder fehlgeschlagene E-Mails" in response.content.decode()


def test_staff_block_an_address_and_lift_it_again(client_of, marketer):
    client = client_of(marketer)
    response = client.post(
        reverse("messaging:suppressions"), {"email": "Anna@Example.de", "detail": "am Telefon"}
    )
    assert response.status_code == 302
    blocked = Suppression.objects.get()
    assert (blocked.email, blocked.reason) == ("anna@example.de", SuppressionReason.MANUAL)
    client.post(reverse("messaging:suppression_lift", args=[blocked.pk]))
    assert not Suppression.objects.exists()


def test_a_wrong_address_is_explained_and_nothing_is_blocked(client_of, marketer):
    response = client_of(marketer).post(reverse("messaging:suppressions"), {"email": "anna"})
    assert response.status_code == 400
    assert "gültige E-Mail-Adresse" in response.content.decode()
    assert not Suppression.objects.exists()


def test_support_sees_blocked_addresses_but_cannot_block(client_of, agent):
    client = client_of(agent)
    assert client.get(reverse("messaging:suppressions")).status_code == 200
    client.post(reverse("messaging:suppressions"), {"email": "anna@example.de"})
    assert not Suppression.objects.exists()


def test_a_customers_mails_are_exported_and_erased_with_them(anna):
    from treu.core import privacy

    services.enqueue_messages(
        [
            services.NewMessage(
                key="k2", to_email=anna.email, subject="Danke", text_body="x", customer_id=anna.pk
            )
        ]
    )
    outbox.suppress_address(anna.email, reason=SuppressionReason.COMPLAINT)
    exported = privacy.export_customer(anna)
    assert exported["messaging.OutboundMessage"][0]["subject"] == "Danke"
    assert exported["messaging.Suppression"][0]["reason"] == "complaint"
    privacy.erase_customer(anna)
    assert not OutboundMessage.objects.exists() and not Suppression.objects.exists()


def test_the_outbox_shows_delivery_opens_and_clicks(client_of, marketer, unclear):
    from django.utils import timezone

    from treu.messaging.models import DeliveryStatus, EventKind, MessageEvent

    OutboundMessage.objects.update(
        status=MessageStatus.SENT,
        delivery_status=DeliveryStatus.BOUNCED,
        delivery_detail="550 unbekannt",
        delivery_status_at=timezone.now(),
    )
    now = timezone.now()
    MessageEvent.objects.bulk_create(
        [MessageEvent(message=unclear, kind=EventKind.CLICK, at=now, url="https://x.de")] * 3
        + [MessageEvent(message=unclear, kind=EventKind.OPEN, at=now)]
    )
    body = client_of(marketer).get(reverse("messaging:outbox")).content.decode()
    row = body.split(f'id="message-{unclear.pk}"')[1].split("</tr>")[0]
    assert "Unzustellbar" in row and "550 unbekannt" in row
    assert '<td class="num hide-narrow opens">1</td>' in row
    assert '<td class="num hide-narrow clicks">3</td>' in row
