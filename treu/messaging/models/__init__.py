"""The messaging models, one module per part; every model is re-exported here."""

from treu.messaging.models.outbox import (
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)

__all__ = [
    # Outbox
    "MessagePurpose", "MessageStatus", "OutboundMessage", "Suppression", "SuppressionReason",
]  # fmt: skip
