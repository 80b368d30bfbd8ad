"""Every read of the messaging app, one module per part; import from here."""

from treu.messaging.selectors.consent import (
    ConsentOverview,
    UnsubscribeTarget,
    all_topics,
    consent_history,
    consent_of,
    consent_overview,
    consent_texts,
    current_text,
    customer_for_proof,
    marketing_consent_condition,
    may_send_marketing,
    offered_topics,
    topic_detail,
    unsubscribe_target,
)
from treu.messaging.selectors.conversions import (
    Conversions,
    attributed_orders,
    attribution_window,
    conversions_by_prefix,
    marketing_mail_facts,
)

__all__ = [
    "ConsentOverview", "UnsubscribeTarget", "all_topics", "consent_history", "consent_of",
    "consent_overview", "consent_texts", "current_text", "customer_for_proof",
    "marketing_consent_condition", "may_send_marketing", "offered_topics", "topic_detail",
    "unsubscribe_target",
    # Conversions
    "Conversions", "attributed_orders", "attribution_window", "conversions_by_prefix",
    "marketing_mail_facts",
]  # fmt: skip
