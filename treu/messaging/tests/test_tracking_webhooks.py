"""Providers' delivery reports (django-anymail tracking webhooks) reach the outbox.

The payloads are shaped like Postmark's documented webhooks (Bounce, SpamComplaint,
Delivery); mails are sent through anymail's test backend, which gives each mail a
provider id the way a real provider's API does. No request leaves the machine.
"""

from __future__ import annotations

import base64
import json

import pytest
from anymail.signals import AnymailTrackingEvent
from django.core import mail
from django.urls import reverse

from treu.messaging import services
from treu.messaging.models import (
    DeliveryStatus,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from treu.messaging.services.tracking import record_tracking_event

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cr3t-hook"
URL = "/hooks/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def _anymail(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def _auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _sent(n: int = 1, *, purpose=MessagePurpose.MARKETING) -> OutboundMessage:
    services.enqueue_messages(
        [
            services.NewMessage(
                key=f"campaign:1:customer:{n}",
                to_email=f"Kunde{n}@Example.de",
                subject="Neue Bohnen",
                text_body="Hallo",
                purpose=purpose,
            )
        ]
    )
    services.send_due_messages()
    return OutboundMessage.objects.get(key=f"campaign:1:customer:{n}")


def _bounce(message: OutboundMessage, *, kind: str = "HardBounce", **extra) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce",
        "Tag": "campaign",
        "MessageID": message.provider_message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": message.to_email,
        "From": "noreply@localhost",
        "BouncedAt": "2026-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": message.subject,
        **extra,
    }


def _delivery(message: OutboundMessage, **extra) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message.provider_message_id,
        "Recipient": message.to_email,
        "Tag": "campaign",
        "DeliveredAt": "2026-11-05T16:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": {},
        **extra,
    }


def _complaint(message: OutboundMessage) -> dict:
    return {
        **_bounce(message),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Details": "Test spam complaint details",
    }


def _post(client, payload: dict, **auth):
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", **(auth or _auth())
    )


def test_sending_through_anymail_stores_the_providers_id_and_passes_our_message_id():
    message = _sent()
    assert message.status == MessageStatus.SENT
    sent = mail.outbox[0]
    assert message.provider_message_id == str(sent.anymail_status.message_id)
    assert sent.anymail_test_params["metadata"] == {"treu_message_id": message.message_id}


def test_a_delivery_report_sets_the_delivery_status(client):
    message = _sent()
    assert _post(client, _delivery(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert message.delivery_status_at.isoformat().startswith("2026-11-05T16:33:54")
    assert not Suppression.objects.exists()


def test_a_hard_bounce_blocks_the_address_and_marks_the_mail(client):
    message = _sent()
    assert _post(client, _bounce(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.BOUNCED
    assert "550 5.1.1" in message.delivery_detail
    block = Suppression.objects.get()
    assert block.email == "kunde1@example.de" and block.reason == SuppressionReason.BOUNCE
    # A late delivery report does not hide the bounce; the same report again changes nothing.
    assert _post(client, _delivery(message)).status_code == 200
    assert _post(client, _bounce(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.BOUNCED
    assert Suppression.objects.count() == 1


def test_a_soft_bounce_is_only_a_delay(client):
    message = _sent()
    assert _post(client, _bounce(message, kind="SoftBounce")).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DEFERRED
    assert not Suppression.objects.exists()


def test_a_complaint_stops_marketing_but_not_an_order_confirmation(client):
    message = _sent()
    assert _post(client, _delivery(message)).status_code == 200
    assert _post(client, _complaint(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.COMPLAINED
    block = Suppression.objects.get()
    assert block.reason == SuppressionReason.COMPLAINT
    assert block.blocks(MessagePurpose.MARKETING)
    assert not block.blocks(MessagePurpose.TRANSACTIONAL)


def test_a_report_found_by_our_message_id_in_the_metadata(client):
    message = _sent()
    payload = _delivery(message, MessageID="unknown-to-us")
    payload["Metadata"] = {"treu_message_id": message.message_id}
    assert _post(client, payload).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED


def test_a_report_about_an_unknown_mail_still_blocks_a_bounced_address(client):
    message = _sent()
    payload = _bounce(message, MessageID="not-ours", Email="fremd@example.de")
    assert _post(client, payload).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.UNKNOWN
    assert Suppression.objects.get().email == "fremd@example.de"


def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(client):
    message = _sent()
    assert _post(client, _bounce(message), **_auth("postmark:falsch")).status_code == 400
    assert (
        client.post(URL, data=json.dumps(_bounce(message)), content_type="application/json")
    ).status_code == 400
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.UNKNOWN
    assert not Suppression.objects.exists()


def test_without_a_configured_secret_the_hooks_are_off(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": None}
    message = _sent()
    assert _post(client, _bounce(message)).status_code == 404
    assert not Suppression.objects.exists()


def test_only_tracking_hooks_are_mounted():
    assert reverse("anymail:postmark_tracking_webhook") == URL
    assert reverse("anymail:mailgun_tracking_webhook") == "/hooks/anymail/mailgun/tracking/"
    with pytest.raises(Exception):  # noqa: B017,PT011 - inbound mail is not accepted
        reverse("anymail:postmark_inbound_webhook")


def test_a_report_by_our_own_message_id_without_brackets():
    message = _sent()
    bare = message.message_id.strip("<>")
    outcome = record_tracking_event(
        AnymailTrackingEvent(event_type="rejected", message_id=bare, reject_reason="invalid")
    )
    message.refresh_from_db()
    assert outcome.message_id == message.pk and outcome.suppressed == SuppressionReason.BOUNCE
    assert message.delivery_status == DeliveryStatus.REJECTED
    assert Suppression.objects.get().email == "kunde1@example.de"


def test_opens_and_clicks_are_no_delivery_reports():
    message = _sent()
    outcome = record_tracking_event(
        AnymailTrackingEvent(event_type="opened", message_id=message.provider_message_id)
    )
    assert outcome.status == "" and outcome.message_id is None
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.UNKNOWN
