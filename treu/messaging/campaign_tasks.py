"""Background work of campaigns: the send when it is asked for, and every minute what is due."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from treu.messaging.services import campaigns


@db_task()
def run_campaign_task(campaign_id: int) -> None:
    # "Jetzt senden": at once; a second worker finds the lease taken and does nothing.
    campaigns.run_campaign(campaign_id)


@db_periodic_task(crontab(minute="*"))
def run_due_campaigns_every_minute() -> None:
    # Scheduled sends, A/B decisions after their wait, and sends a dead worker left.
    campaigns.run_due_campaigns()
