"""Every write of the messaging app, one module per part; import from here."""

from treu.messaging.mail_templates.services import (
    MailTemplateError,
    default_templates_after_migrate,
    delete_mail_template,
    ensure_default_mail_templates,
    save_mail_template,
    send_test_mail,
    validate_mail_template,
)
from treu.messaging.segments.lists import segment_from_customers
from treu.messaging.segments.services import SegmentError
from treu.messaging.services.consent import (
    LINK_MESSAGES,
    ConsentError,
    ConsentLinkError,
    SignupResult,
    SignupStatus,
    TokenCheck,
    address_hash,
    check_confirmation_token,
    confirm_consent,
    default_texts_after_migrate,
    ensure_default_consent_texts,
    erase_consents,
    merge_consents,
    pending_days,
    publish_consent_text,
    purge_unconfirmed,
    record_existing_customer_basis,
    record_withdrawal_reason,
    save_topic,
    subscribe_to_newsletter,
    update_preferences,
    withdraw_consent,
)
from treu.messaging.services.engagement import (
    customers_allowing_open_tracking,
    read_click_token,
    record_click,
    record_open,
    track_links,
)
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
from treu.messaging.services.sending import (
    MailSend,
    SendingRulesError,
    SendReport,
    in_control_group,
    message_key,
    save_sending_rules,
    send_mail_template,
)

__all__ = [
    # Sending
    "MailSend", "SendingRulesError", "SendReport", "in_control_group", "message_key",
    "save_sending_rules", "send_mail_template",
    # Segments from a fixed list (the dashboard's drill-down)
    "SegmentError", "segment_from_customers",
    "LINK_MESSAGES", "ConsentError", "ConsentLinkError", "SignupResult", "SignupStatus",
    "TokenCheck", "address_hash", "check_confirmation_token", "confirm_consent",
    "default_texts_after_migrate", "ensure_default_consent_texts",
    "erase_consents", "merge_consents", "pending_days", "publish_consent_text",
    "purge_unconfirmed", "record_existing_customer_basis", "record_withdrawal_reason",
    "save_topic", "subscribe_to_newsletter", "update_preferences", "withdraw_consent",
    # Outbox
    "NewMessage", "OutboxError", "SendResult", "drain_outbox", "enqueue_messages",
    "lift_suppression", "recover_stalled_messages", "resend_unclear_message",
    "send_due_messages", "suppress_address",
    # Engagement
    "customers_allowing_open_tracking", "read_click_token", "record_click", "record_open",
    "track_links",
    # Mail templates
    "MailTemplateError", "default_templates_after_migrate", "delete_mail_template",
    "ensure_default_mail_templates", "save_mail_template", "send_test_mail",
    "validate_mail_template",
]  # fmt: skip
