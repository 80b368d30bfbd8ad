"""Outbound webhooks listen to every event; only kinds some endpoint wants cost anything."""

from __future__ import annotations

from treu.core.events import ALL, subscribe
from treu.webhooks import services


@subscribe(ALL)
def deliver_to_webhooks(event) -> None:
    # In-process and cheap: it only writes delivery rows; the sending happens in the worker.
    services.deliveries_for_event(event=event)
