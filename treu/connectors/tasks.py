"""Worker jobs: apply received deliveries, and keep raw payloads only as long as needed."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=6, retry_delay=60)
def process_delivery_task(delivery_id: int) -> None:
    """Apply one delivery; raises (and is retried) only when a later try may succeed."""
    from treu.connectors import services

    services.process_delivery(delivery_id=delivery_id)


@db_periodic_task(crontab(hour="3", minute="41"))
def prune_deliveries_task() -> None:
    from treu.connectors import services

    services.prune_deliveries()
