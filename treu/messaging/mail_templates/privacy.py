"""Mail templates hold no one's data (see treu.core.privacy): the personalisation is filled
in when a mail is rendered and lives on only in the outbox row, which is registered there."""

from __future__ import annotations

from treu.core import privacy
from treu.messaging.models import MailTemplate

privacy.not_personal(MailTemplate, reason="a mail's wording with placeholders; no person's data")
