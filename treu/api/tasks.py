from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from treu.api import services

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def expire_api_records() -> None:
    """Idempotency answers live 24 hours; rate-limit counters only as long as their minute."""
    records, windows = services.expire_records()
    if records or windows:
        log.info("Expired %d idempotency records and %d rate windows", records, windows)
