"""Background work of the consent part (imported from MessagingConfig.ready())."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from treu.messaging import services


@db_periodic_task(crontab(hour="3", minute="53"))
def purge_unconfirmed_signups() -> None:
    # Daily: sign-ups not confirmed within TREU_CONSENT_PENDING_DAYS expire. Counts over
    # everything due, so a missed night is caught up by the next.
    services.purge_unconfirmed()
