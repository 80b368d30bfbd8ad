"""What mail providers report after they took a mail: delivery, bounces, complaints.

django-anymail's tracking webhooks (`/hooks/anymail/<provider>/tracking/`) turn each
provider's report into an `AnymailTrackingEvent`; `record_tracking_event` finds the
outbox row it is about, stores its delivery status and blocks the address on a hard
bounce (every mail) or a spam complaint (marketing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from treu.messaging.models import DeliveryStatus, OutboundMessage, SuppressionReason
from treu.messaging.services.outbox import TRACKING_METADATA_KEY, OutboxError, suppress_address

log = logging.getLogger(__name__)

# anymail's normalised event types → the delivery status they set.
EVENT_STATUS = {
    "deferred": DeliveryStatus.DEFERRED,
    "delivered": DeliveryStatus.DELIVERED,
    "bounced": DeliveryStatus.BOUNCED,
    "rejected": DeliveryStatus.REJECTED,
    "complained": DeliveryStatus.COMPLAINED,
}
# Provider bounce types that are temporary although anymail calls them "bounced".
SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}
# A rejection for one of these reasons means the address does not work.
DEAD_ADDRESS_REASONS = {"invalid", "bounced"}


@dataclass(frozen=True)
class TrackingOutcome:
    message_id: int | None
    status: str
    suppressed: str = ""  # the suppression reason, if the address was blocked


def _bare(value: str) -> str:
    return value.strip().strip("<>").strip()


def find_message(*ids: str | None) -> OutboundMessage | None:
    """The outbox row a report names: by the provider's id or by our Message-ID."""
    ids = [i for i in (_bare(str(v)) for v in ids if v) if i]
    if not ids:
        return None
    ours = [f"<{i}>" for i in ids]
    return (
        OutboundMessage.objects.filter(Q(provider_message_id__in=ids) | Q(message_id__in=ours))
        .order_by("id")
        .first()
    )


def _status_of(event) -> str:
    status = EVENT_STATUS.get(event.event_type, "")
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    if status == DeliveryStatus.BOUNCED and esp_event.get("Type") in SOFT_BOUNCE_TYPES:
        return DeliveryStatus.DEFERRED  # the provider keeps trying; may bounce hard later
    return status


def record_tracking_event(event, *, esp_name: str = "", now: datetime | None = None):
    """Apply one anymail tracking event; returns what it did (also for unknown mails).

    Idempotent: a provider that sends the same report again changes nothing more.
    """
    now = now or timezone.now()
    status = _status_of(event)
    if not status:  # opens, clicks, queued, sent …: not a delivery report
        return TrackingOutcome(message_id=None, status="")
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    detail = " ".join(
        str(part) for part in (esp_name, event.description or "", event.mta_response or "") if part
    )[:300]
    with transaction.atomic():
        message = find_message(event.message_id, metadata.get(TRACKING_METADATA_KEY))
        if message is not None:
            message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
            if DeliveryStatus.rank(status) >= DeliveryStatus.rank(message.delivery_status):
                message.delivery_status = status
                message.delivery_status_at = event.timestamp or now
                message.delivery_detail = detail
                message.save(
                    update_fields=["delivery_status", "delivery_status_at", "delivery_detail"]
                )
        else:
            log.info("tracking event %s for an unknown mail %r", status, event.message_id)
        address = event.recipient or (message.to_email if message else "")
        reason = _suppression_reason(status, event.reject_reason)
        suppressed = ""
        if reason and address:
            try:
                suppress_address(address, reason=reason, detail=detail, now=now)
                suppressed = reason
            except OutboxError:
                log.warning("tracking event names no valid address: %r", address)
    return TrackingOutcome(
        message_id=message.pk if message else None, status=status, suppressed=suppressed
    )


def _suppression_reason(status: str, reject_reason: str | None) -> str:
    if status == DeliveryStatus.BOUNCED:
        return SuppressionReason.BOUNCE
    if status == DeliveryStatus.REJECTED and reject_reason in DEAD_ADDRESS_REASONS:
        return SuppressionReason.BOUNCE
    if status == DeliveryStatus.COMPLAINED:
        return SuppressionReason.COMPLAINT
    return ""
