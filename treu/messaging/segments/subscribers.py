"""Keep segment memberships current within seconds: after every committed batch of events
that can change a rule's answer (the fields' `triggers`), re-judge just those customers."""

from __future__ import annotations

import logging

from treu.core import events
from treu.messaging.segments import fields, services

log = logging.getLogger(__name__)


def on_customer_events(batch: list) -> None:
    customer_ids = {event.customer_id for event in batch if event.customer_id}
    if customer_ids:
        services.update_memberships(customer_ids)


def _watch(kind: str) -> None:
    events.subscribe_batch(kind)(on_customer_events)


def connect() -> None:
    """Subscribe to every trigger kind, now and for fields registered later."""
    fields.on_new_trigger(_watch)
