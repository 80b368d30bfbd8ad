from __future__ import annotations

import smtplib
from collections.abc import Callable
from contextvars import ContextVar

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives

from treu.core.models import CapturedMail


class CapturingBackend(BaseEmailBackend):
    """Keeps outgoing mail in the database instead of sending it (the default setup)."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        captured = []
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                for content, mimetype in message.alternatives:
                    if mimetype == "text/html":
                        html = content
            if message.content_subtype == "html":
                html, text = message.body, ""
            else:
                text = message.body
            captured.append(
                CapturedMail(
                    from_email=message.from_email,
                    to="\n".join(recipients),
                    subject=message.subject,
                    text_body=text,
                    html_body=html,
                    headers={k: str(v) for k, v in (message.extra_headers or {}).items()},
                )
            )
        CapturedMail.objects.bulk_create(captured)
        return len(captured)


# Called with no arguments right before a mail's data goes to the SMTP server (after the
# server accepted sender and recipients). The outbox sets it to mark the moment from
# which a mail may have been delivered; it may raise to stop that one mail.
before_data: ContextVar[Callable[[], None] | None] = ContextVar("before_data", default=None)


class _SMTPWithHook(smtplib.SMTP):
    def data(self, msg):
        hook = before_data.get()
        if hook is not None:
            hook()
        return super().data(msg)


class _SMTPSSLWithHook(smtplib.SMTP_SSL):
    def data(self, msg):
        hook = before_data.get()
        if hook is not None:
            hook()
        return super().data(msg)


class SmtpBackend(SMTPBackend):
    """Django's SMTP backend, telling `before_data` when the mail itself is about to go."""

    supports_before_data = True

    @property
    def connection_class(self):
        return _SMTPSSLWithHook if self.use_ssl else _SMTPWithHook
