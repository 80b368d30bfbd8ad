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
from treu.messaging.selectors.engagement import mail_events, marketing_mails_sent
from treu.messaging.selectors.sending import (
    COUNTRY_ZONES,
    GroupOutcome,
    SendOutcome,
    after_quiet_hours,
    customers_at_cap,
    held_out_count,
    keys_in_outbox,
    measurable_sends,
    register_send_names,
    send_moments,
    send_outcome,
    sending_rules,
    zone_for,
)

__all__ = [
    # Sending
    "COUNTRY_ZONES", "GroupOutcome", "SendOutcome", "after_quiet_hours", "customers_at_cap",
    "held_out_count", "keys_in_outbox", "measurable_sends", "register_send_names",
    "send_moments", "send_outcome", "sending_rules",
    "zone_for",
    "ConsentOverview", "UnsubscribeTarget", "all_topics", "consent_history", "consent_of",
    "consent_overview", "consent_texts", "current_text", "customer_for_proof",
    "marketing_consent_condition", "may_send_marketing", "offered_topics", "topic_detail",
    "unsubscribe_target",
    # Conversions
    "Conversions", "attributed_orders", "attribution_window", "conversions_by_prefix",
    "marketing_mail_facts",
    # Engagement
    "mail_events", "marketing_mails_sent",
]  # fmt: skip
