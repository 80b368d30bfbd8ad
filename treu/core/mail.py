from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend
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
