"""Sending a mail template to many customers: what every campaign and automation step does.

`send_mail_template` takes the customers a send is meant for and, in batches of 2,000,
keeps the rules every marketing mail obeys — a valid consent for the current address, the
frequency cap across all campaigns and automations, quiet hours in the customer's own time
zone — holds back a random control group when asked, renders the template set-based, adds
the unsubscribe frame, and writes the outbox rows keyed `<prefix>:customer:<id>`. Run
again with the same prefix it writes nothing twice, so a job that died half-way is simply
run again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.customers import selectors as customer_selectors
from treu.messaging.consent_mail import marketing_frames
from treu.messaging.mail_templates.render import render_for_customers
from treu.messaging.models import (
    Channel,
    Consent,
    ConsentState,
    Holdout,
    LegalBasis,
    MailTemplate,
    MessagePurpose,
    SendingRules,
    Topic,
)
from treu.messaging.selectors import sending as sending_selectors
from treu.messaging.selectors.consent import marketing_consent_condition
from treu.messaging.selectors.conversions import CUSTOMER_PART
from treu.messaging.services.outbox import NewMessage, OutboxError, enqueue_messages

BATCH = 2000


class SendingRulesError(OutboxError):
    """Sending rules that cannot be stored; German messages per field."""


@dataclass(frozen=True)
class MailSend:
    """One send of a template: to whom, under which key prefix, when."""

    prefix: str  # "campaign:7", "campaign:7:b", "flow:3:step:2"
    mail_template: MailTemplate
    customer_ids: Sequence[int]
    local: datetime | None = None  # naive wall time in each customer's zone; None: now
    control_percent: int = 0  # share held back as the control group (0–50)
    extra: Mapping[str, object] | None = None
    per_customer: Mapping[int, Mapping[str, object]] | None = None
    topic: Topic | None = None
    frequency_cap: bool = True
    # Per customer, what makes this mail one of several of the same send (an automation's
    # run: "flow:3:step:2:customer:42:run:981"); without it a customer gets the send once.
    occurrences: Mapping[int, str] | None = None


@dataclass
class SendReport:
    queued: int = 0
    held_out: int = 0
    without_consent: int = 0  # no valid permission, no address, or erased
    at_cap: int = 0
    already: int = 0  # in the outbox or the control group from an earlier run
    queued_ids: list[int] = field(default_factory=list)
    held_out_ids: list[int] = field(default_factory=list)

    def add(self, other: SendReport) -> None:
        self.queued += other.queued
        self.held_out += other.held_out
        self.without_consent += other.without_consent
        self.at_cap += other.at_cap
        self.already += other.already
        self.queued_ids += other.queued_ids
        self.held_out_ids += other.held_out_ids


def message_key(prefix: str, customer_id: int, occurrence: str = "") -> str:
    key = f"{prefix}{CUSTOMER_PART}{customer_id}"
    return f"{key}:{occurrence}" if occurrence else key


def in_control_group(prefix: str, customer_id: int, percent: int) -> bool:
    """A fixed coin per send and customer: the same answer on every run."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{prefix}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def send_mail_template(send: MailSend, *, now: datetime | None = None) -> SendReport:
    """Write the send's mails into the outbox; see the module's docstring. Each batch is
    one transaction, so a failure loses at most the batch that was being written, and a
    second run fills in exactly what is missing."""
    if not 0 <= send.control_percent <= 50:
        raise OutboxError({"control_percent": [_("The control group is 0 to 50 percent.")]})
    if not send.prefix or CUSTOMER_PART in send.prefix or len(send.prefix) > 120:
        raise OutboxError({"prefix": [_("A send needs a short key without “:customer:”.")]})
    now = now or timezone.now()
    report = SendReport()
    ids = list(dict.fromkeys(int(i) for i in send.customer_ids))
    for start in range(0, len(ids), BATCH):
        report.add(_send_batch(send, ids[start : start + BATCH], now))
    return report


def _send_batch(send: MailSend, ids: list[int], now: datetime) -> SendReport:
    report = SendReport()
    marketing = send.mail_template.kind == MessagePurpose.MARKETING
    with transaction.atomic():
        # One sender at a time decides on the cap, so two sends cannot both take the last
        # place in someone's week (SQLite's writer lock does the same there).
        rules = SendingRules.objects.select_for_update().filter(pk=_rules_pk()).first()
        contacts = customer_selectors.contacts(ids)
        if marketing:
            allowed = set(
                customer_selectors.segmentable_customers()
                .filter(pk__any_of=list(contacts))
                .filter(marketing_consent_condition(topic=send.topic))
                .values_list("pk", flat=True)
            )
            contacts = {pk: c for pk, c in contacts.items() if pk in allowed}
        report.without_consent = len(ids) - len(contacts)
        done = sending_selectors.keys_in_outbox(_key(send, pk) for pk in contacts)
        held_before = set(
            Holdout.objects.filter(
                prefix=send.prefix, customer_id__any_of=list(contacts)
            ).values_list("customer_id", flat=True)
        )
        fresh = {
            pk: c
            for pk, c in contacts.items()
            if _key(send, pk) not in done and pk not in held_before
        }
        report.already = len(contacts) - len(fresh)
        held = [pk for pk in fresh if in_control_group(send.prefix, pk, send.control_percent)]
        moments = sending_selectors.send_moments(
            {pk: c.country for pk, c in fresh.items()},
            now=now,
            local=send.local,
            rules=rules,
            quiet_hours=marketing,
        )
        Holdout.objects.bulk_create(
            [Holdout(prefix=send.prefix, customer_id=pk, at=moments[pk]) for pk in held],
            ignore_conflicts=True,
        )
        report.held_out, report.held_out_ids = len(held), held
        held_set = set(held)
        targets = {pk: moments[pk] for pk in fresh if pk not in held_set}
        if marketing and send.frequency_cap:
            capped = sending_selectors.customers_at_cap(targets, rules=rules)
            report.at_cap = len(capped)
            targets = {pk: at for pk, at in targets.items() if pk not in capped}
        messages = _messages(send, {pk: fresh[pk] for pk in targets}, targets, marketing)
        enqueue_messages(messages, now=now)
        report.queued = len(messages)
        report.queued_ids = [m.customer_id for m in messages]
    return report


def _key(send: MailSend, customer_id: int) -> str:
    occurrence = (send.occurrences or {}).get(customer_id, "")
    return message_key(send.prefix, customer_id, occurrence)


def _rules_pk() -> int:
    return sending_selectors.sending_rules().pk


def _messages(send: MailSend, contacts: dict, moments: dict, marketing: bool) -> list:
    if not contacts:
        return []
    rendered = render_for_customers(
        send.mail_template, list(contacts), extra=send.extra, per_customer=send.per_customer
    )
    frames = {}
    if marketing:
        existing = set(
            Consent.objects.filter(
                customer_id__any_of=list(rendered),
                channel=Channel.EMAIL,
                state=ConsentState.ACTIVE,
                legal_basis=LegalBasis.EXISTING_CUSTOMER,
            ).values_list("customer_id", flat=True)
        )
        frames = marketing_frames({pk: contacts[pk].language for pk in rendered}, existing)
    messages = []
    for pk, mail in rendered.items():
        text, html, headers = mail.text, mail.html, {}
        if marketing:
            frame = frames[pk]
            text, html = frame.wrap(text=text, html=html)
            headers = frame.headers
        messages.append(
            NewMessage(
                key=_key(send, pk),
                to_email=contacts[pk].email,
                subject=mail.subject,
                text_body=text,
                html_body=html,
                purpose=send.mail_template.kind,
                customer_id=pk,
                headers=headers,
                not_before=moments[pk],
            )
        )
    return messages


@transaction.atomic
def save_sending_rules(*, weekly_cap: int, quiet_from: time, quiet_until: time) -> SendingRules:
    errors: dict[str, list[str]] = {}
    if not 0 <= weekly_cap <= 50:
        errors["weekly_cap"] = [_("Choose 0 (no limit) to 50 mails per week.")]
    if errors:
        raise SendingRulesError(errors)
    rules = SendingRules.objects.select_for_update().get(pk=_rules_pk())
    rules.weekly_cap = weekly_cap
    rules.quiet_from = quiet_from
    rules.quiet_until = quiet_until
    rules.save()
    return rules
