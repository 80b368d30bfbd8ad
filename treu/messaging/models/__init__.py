"""The messaging models, one module per part; every model is re-exported here."""

from treu.messaging.models.campaigns import AbMetric, AbVariant, Campaign, CampaignStatus
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
from treu.messaging.models.engagement import EventKind, MessageEvent
from treu.messaging.models.flows import (
    Enrollment,
    EnrollmentStatus,
    Flow,
    FlowStep,
    FlowTrigger,
    StaffTask,
    StepKind,
    StepOutcome,
    StepRun,
)
from treu.messaging.models.outbox import (
    DeliveryStatus,
    MessagePurpose,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from treu.messaging.models.segments import (
    CustomerList,
    CustomerListEntry,
    Segment,
    SegmentMembership,
)
from treu.messaging.models.sending import Holdout, SendingRules
from treu.messaging.models.templates import MailTemplate

__all__ = [
    # Consent
    "PURPOSE_NEWSLETTER", "AppendOnlyError", "Channel", "Consent", "ConsentAction",
    "ConsentRecord", "ConsentSource", "ConsentState", "ConsentText", "Frequency", "LegalBasis",
    "Topic", "WithdrawalMethod",
    # Outbox
    "DeliveryStatus", "MessagePurpose", "MessageStatus", "OutboundMessage", "Suppression",
    "SuppressionReason",
    # Engagement
    "EventKind", "MessageEvent",
    # Segments
    "CustomerList", "CustomerListEntry", "Segment", "SegmentMembership",
    # Mail templates
    "MailTemplate",
    # Sending rules and control groups
    "Holdout", "SendingRules",
    # Campaigns
    "AbMetric", "AbVariant", "Campaign", "CampaignStatus",
    # Automations
    "Enrollment", "EnrollmentStatus", "Flow", "FlowStep", "FlowTrigger", "StaffTask",
    "StepKind", "StepOutcome", "StepRun",
]  # fmt: skip
