from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from treu.core.models import DomainEvent

log = logging.getLogger(__name__)


@db_task(retries=5, retry_delay=30)
def deliver_event(event_id: int, subscriber_path: str) -> None:
    """Run one slow subscriber for one event in the worker; retried on failure."""
    from treu.core import events

    subscriber = events.subscriber_by_path(subscriber_path)
    if subscriber is None:
        log.warning("No subscriber %s any more; event %s skipped", subscriber_path, event_id)
        return
    event = DomainEvent.objects.filter(pk=event_id).first()
    if event is None:  # erased in the meantime: nothing left to react to
        return
    subscriber.handler(event)
