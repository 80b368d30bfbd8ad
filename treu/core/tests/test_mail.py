from __future__ import annotations

import pytest
from django.core import mail

from treu.core.models import CapturedMail

pytestmark = pytest.mark.django_db


def test_the_default_setup_captures_mails_with_both_parts(settings):
    settings.EMAIL_BACKEND = "treu.core.mail.CapturingBackend"
    message = mail.EmailMultiAlternatives(
        "Willkommen", "Hallo!", "shop@example.de", ["a@example.de", "b@example.de"],
        headers={"List-Unsubscribe": "<https://shop.example/u>"},
    )  # fmt: skip
    message.attach_alternative("<p>Hallo!</p>", "text/html")
    assert message.send() == 1
    captured = CapturedMail.objects.get()
    assert captured.recipients == ["a@example.de", "b@example.de"]
    assert (captured.text_body, captured.html_body) == ("Hallo!", "<p>Hallo!</p>")
    assert captured.headers["List-Unsubscribe"] == "<https://shop.example/u>"


def test_a_mail_without_recipients_is_not_kept(settings):
    settings.EMAIL_BACKEND = "treu.core.mail.CapturingBackend"
    assert mail.EmailMessage("x", "y", "shop@example.de", []).send() == 0
    assert not CapturedMail.objects.exists()
