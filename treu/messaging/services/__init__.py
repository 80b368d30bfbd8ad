"""Messaging writes, one module per part; the public names are re-exported here."""

from treu.messaging.services.outbox import (
    NewMessage,
    OutboxError,
    SendResult,
    drain_outbox,
    enqueue_messages,
    lift_suppression,
    recover_stalled_messages,
    resend_unclear_message,
    send_due_messages,
    suppress_address,
)

__all__ = [
    # Outbox
    "NewMessage", "OutboxError", "SendResult", "drain_outbox", "enqueue_messages",
    "lift_suppression", "recover_stalled_messages", "resend_unclear_message",
    "send_due_messages", "suppress_address",
]  # fmt: skip
