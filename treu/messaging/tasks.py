"""Background work of messaging: sending the outbox."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from treu.messaging.services import outbox


@db_task()
def send_outbox() -> None:
    # Asked for when mails were written; each run sends until nothing is due (or ~50 s).
    outbox.drain_outbox()


@db_periodic_task(crontab(minute="*"))
def send_outbox_every_minute() -> None:
    # Picks up what is due later (retries, scheduled mails, a dead worker's rows) with as
    # many senders as configured; they never claim the same row.
    outbox.recover_stalled_messages()
    for _ in range(settings.MESSAGING_SENDERS):
        send_outbox()
