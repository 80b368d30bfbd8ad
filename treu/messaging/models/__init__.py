"""The messaging models, one module per part; every model is re-exported here."""

from treu.messaging.models.consent import (
    PURPOSE_NEWSLETTER,
    AppendOnlyError,
    Channel,
    Consent,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentText,
    Frequency,
    LegalBasis,
    Topic,
    WithdrawalMethod,
)
from treu.messaging.models.outbox import (
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from treu.messaging.models.segments import Segment, SegmentMembership
from treu.messaging.models.templates import MailTemplate

__all__ = [
    # Consent
    "PURPOSE_NEWSLETTER", "AppendOnlyError", "Channel", "Consent", "ConsentAction",
    "ConsentRecord", "ConsentSource", "ConsentState", "ConsentText", "Frequency", "LegalBasis",
    "Topic", "WithdrawalMethod",
    # Outbox
    "MessagePurpose", "MessageStatus", "OutboundMessage", "Suppression", "SuppressionReason",
    # Segments
    "Segment", "SegmentMembership",
    # Mail templates
    "MailTemplate",
]  # fmt: skip
