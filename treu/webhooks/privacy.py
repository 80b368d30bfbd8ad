"""What outbound webhooks keep about customers (see treu.core.privacy).

A delivery holds the event's public payload (customer number, order figures) to send
and show it; it is deleted on erasure and after 30 days (tasks.purge_old_deliveries).
"""

from __future__ import annotations

from treu.core import privacy
from treu.webhooks.models import Attempt, Delivery

privacy.register(
    Delivery,
    customer="event__customer",
    fields=["created_at", "kind", "status", "payload"],
    erasure=privacy.Erasure.DELETE,
    retention="Auslieferungsprotokolle werden nach 30 Tagen gelöscht.",
)
privacy.register(
    Attempt,
    customer="delivery__event__customer",
    fields=["attempted_at", "status_code", "response_excerpt"],
    erasure=privacy.Erasure.DELETE,
    retention="Gehört zur Auslieferung und wird mit ihr gelöscht.",
)
