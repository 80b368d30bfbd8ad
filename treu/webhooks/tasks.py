"""Background work of outbound webhooks: sending, recovering lost sends, cleaning up."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from treu.webhooks import selectors, services

# Deliveries normally go out through their own queued or scheduled task; the picker only
# takes those overdue by this much, whose task was lost (a restart, a full queue).
PICKER_GRACE = timedelta(minutes=2)


@db_task()
def send_delivery(delivery_id: int) -> None:
    services.delivery_send(delivery_id=delivery_id)


@db_periodic_task(crontab(minute="*"))
def send_overdue_deliveries() -> None:
    for delivery_id in selectors.due_delivery_ids(now=timezone.now(), grace=PICKER_GRACE):
        send_delivery(delivery_id)


@db_periodic_task(crontab(hour="3", minute="40"))
def purge_old_deliveries() -> None:
    services.deliveries_purge()
