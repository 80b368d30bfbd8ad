"""Every write to marketing consent: sign-up with double opt-in, confirmation, preferences,
withdrawal, the §7(3) UWG basis, expiry of unconfirmed sign-ups, consent texts and topics,
erasure and merging.

Each service runs in one transaction, changes the current `Consent` row and appends the
`ConsentRecord`s of the step, so the newest record always states the current state.
Refusals are `ConsentError`s with German messages that write nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from treu.core import events
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services
from treu.messaging.consent_events import CONSENT_CONFIRMED, CONSENT_REQUESTED, CONSENT_WITHDRAWN
from treu.messaging.consent_mail import confirmation_message
from treu.messaging.consent_tokens import hash_token, new_confirmation_token
from treu.messaging.models import (
    PURPOSE_NEWSLETTER,
    Channel,
    Consent,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentText,
    Frequency,
    LegalBasis,
    MessagePurpose,
    Topic,
    WithdrawalMethod,
)
from treu.messaging.services.outbox import NewMessage, enqueue_messages

# A second sign-up within this time sends no second mail (nobody is flooded with them).
RESEND_AFTER = timedelta(minutes=5)
PUBLIC_SOURCES = frozenset({ConsentSource.PAGE, ConsentSource.EMBED})
_CUSTOMER_CHANNEL = {
    ConsentSource.PAGE: "online",
    ConsentSource.EMBED: "online",
    ConsentSource.PORTAL: "online",
    ConsentSource.CHECKOUT: "online",
    ConsentSource.CASHIER: "store",
    ConsentSource.IMPORT: "import",
    ConsentSource.BACKOFFICE: "manual",
}


class ConsentError(ValidationError):
    """A consent write that was refused; German messages, per field where there is one."""


class ConsentLinkError(ConsentError):
    """A confirmation link that cannot be used: `problem` is forged, expired or used."""

    def __init__(self, problem: str, message: str):
        super().__init__(message)
        self.problem = problem


class SignupStatus:
    MAIL_SENT = "mail_sent"
    MAIL_RECENTLY_SENT = "mail_recently_sent"
    ALREADY_ACTIVE = "already_active"


@dataclass(frozen=True)
class SignupResult:
    consent: Consent
    status: str
    # The token of the mail just sent (tests and the demo's mail viewer read the mail instead).
    token: str = ""


def pending_days() -> int:
    return settings.TREU_CONSENT_PENDING_DAYS


# -- Helpers -----------------------------------------------------------------------------------


def _append(consent: Consent, action: str, *, at: datetime, **fields: Any) -> ConsentRecord:
    return ConsentRecord.objects.create(
        consent=consent,
        customer_id=consent.customer_id,
        channel=consent.channel,
        action=action,
        state=consent.state,
        legal_basis=consent.legal_basis,
        source=consent.source,
        wording=consent.wording,
        address=consent.address,
        occurred_at=at,
        **fields,
    )


def _payload(consent: Consent, **extra: Any) -> dict[str, Any]:
    return {
        "channel": consent.channel,
        "purpose": PURPOSE_NEWSLETTER,
        "consent_id": consent.pk,
        "legal_basis": consent.legal_basis,
        "source": consent.source,
        **extra,
    }


def _locked_consent(customer_id: int, channel: str) -> Consent | None:
    return (
        Consent.objects.select_for_update().filter(customer_id=customer_id, channel=channel).first()
    )


def _new_consent(customer, channel: str, **fields: Any) -> Consent:
    """A first Consent row for (customer, channel); a concurrent first one wins, we reuse it."""
    try:
        with transaction.atomic():
            return Consent.objects.create(customer=customer, channel=channel, **fields)
    except IntegrityError:
        consent = _locked_consent(customer.pk, channel)
        if consent is None:
            raise
        return consent


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ConsentError(
            {"email": _("Please enter a valid email address, e.g. name@example.de.")}
        ) from None
    return email


def _wording(channel: str, basis: str, version: int | None) -> ConsentText:
    texts = ConsentText.objects.filter(channel=channel, basis=basis)
    found = texts.filter(version=version).first() if version else texts.order_by("-version").first()
    if found is None:
        if version:
            raise ConsentError(
                _("This form shows a consent text that does not exist. Please reload the page.")
            )
        raise ConsentError(_("No consent text is set up yet; the sign-up cannot be recorded."))
    return found


def _resolve_customer(customer_or_email, *, first_name: str, source: str):
    """The customer to sign up: given, or found or created by email (customers.services)."""
    if not isinstance(customer_or_email, str):
        customer = customer_or_email
        if not customer.email:
            raise ConsentError({"email": _("This customer has no email address.")})
        _clean_email(customer.email)
        return customer
    email = _clean_email(customer_or_email)
    found = customer_selectors.customer_by_email(email)
    if found is not None:
        # A public form never changes an existing customer's details (anyone can type any
        # address); only a new customer gets the first name given.
        return found
    try:
        with transaction.atomic():  # a savepoint: a lost race must not spoil the sign-up
            result = customer_services.upsert_customer(
                email=email,
                first_name=first_name.strip()[:150],
                source_channel=_CUSTOMER_CHANNEL.get(source, "manual"),
                event_source="newsletter",
            )
    except (IntegrityError, customer_services.CustomerError):
        # The same address signed up twice at once (a double click): the other request
        # created the customer first.
        found = customer_selectors.customer_by_email(email)
        if found is None:
            raise
        return found
    return result.customer


def _check_rate(ip: str | None, source: str, now: datetime) -> None:
    if not ip or source not in PUBLIC_SOURCES:
        return
    recent = ConsentRecord.objects.filter(
        ip=ip, action=ConsentAction.SIGNUP, occurred_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= settings.TREU_CONSENT_SIGNUPS_PER_IP_HOUR:
        raise ConsentError(
            _("Very many sign-ups came from your connection just now. Please try again later.")
        )


def _topics(topics) -> list[Topic]:
    chosen = list(topics or [])
    if any(not topic.active for topic in chosen):
        raise ConsentError({"topics": _("One of the chosen topics is no longer offered.")})
    return chosen


# -- Sign-up and double opt-in -----------------------------------------------------------------


@transaction.atomic
def subscribe_to_newsletter(
    customer_or_email,
    *,
    source: str,
    ip: str | None = None,
    text_version: int | None = None,
    topics=(),
    frequency: str = Frequency.ALL,
    first_name: str = "",
    channel: str = Channel.EMAIL,
    now: datetime | None = None,
) -> SignupResult:
    """Sign someone up for the newsletter: pending until they click the link in the mail.

    For the own page, the embeddable form, the portal and the cashier screen. `text_version`
    is the version of the consent text the person saw (None: the current one). An address
    that already confirmed stays as it is; a sign-up within minutes of the last mail sends
    no second one.
    """
    if channel != Channel.EMAIL:
        raise ConsentError(_("Only the email newsletter can be signed up for so far."))
    if source not in ConsentSource.values:
        raise ValueError(f"Unknown consent source {source!r}")
    if frequency not in Frequency.values:
        raise ConsentError({"frequency": _("Please choose how often you want to hear from us.")})
    now = now or timezone.now()
    _check_rate(ip, source, now)
    wording = _wording(channel, LegalBasis.CONSENT, text_version)
    chosen = _topics(topics)
    customer = _resolve_customer(customer_or_email, first_name=first_name, source=source)
    consent = _locked_consent(customer.pk, channel)
    if consent is not None:
        same_address = consent.address == customer.email
        if (
            consent.state == ConsentState.ACTIVE
            and consent.legal_basis == LegalBasis.CONSENT
            and same_address
        ):
            return SignupResult(consent, SignupStatus.ALREADY_ACTIVE)
        if (
            consent.state == ConsentState.PENDING
            and same_address
            and consent.confirmation_sent_at
            and now - consent.confirmation_sent_at < RESEND_AFTER
        ):
            return SignupResult(consent, SignupStatus.MAIL_RECENTLY_SENT)
    token, token_hash = new_confirmation_token()
    fields = {
        "address": customer.email,
        "state": ConsentState.PENDING,
        "legal_basis": LegalBasis.CONSENT,
        "source": source,
        "wording": wording,
        "frequency": frequency,
        "signed_up_at": now,
        "confirmation_sent_at": now,
        "confirmed_at": None,
        "withdrawn_at": None,
        "token_hash": token_hash,
        "token_expires_at": now + timedelta(days=pending_days()),
    }
    if consent is None:
        consent = _new_consent(customer, channel, **fields)
    else:
        for name, value in fields.items():
            setattr(consent, name, value)
        consent.save()
    consent.topics.set(chosen)
    detail = {"topics": [t.name for t in chosen], "frequency": frequency}
    _append(consent, ConsentAction.SIGNUP, at=now, ip=ip, detail=detail)
    _append(consent, ConsentAction.MAIL_SENT, at=now, token_hash=token_hash)
    events.publish(CONSENT_REQUESTED, customer=customer, payload=_payload(consent), occurred_at=now)
    # Into the outbox in the same transaction: the mail exists exactly when the sign-up
    # does, and the worker sends it once after the commit.
    mail = confirmation_message(consent, token)
    enqueue_messages(
        [
            NewMessage(
                key=f"consent:{consent.pk}:confirm:{token_hash[:24]}",
                to_email=consent.address,
                subject=mail.subject,
                text_body=mail.body,
                html_body=mail.alternatives[0][0] if mail.alternatives else "",
                purpose=MessagePurpose.TRANSACTIONAL,
                customer_id=customer.pk,
            )
        ],
        now=now,
    )
    return SignupResult(consent, SignupStatus.MAIL_SENT, token)


@dataclass(frozen=True)
class TokenCheck:
    consent: Consent | None
    problem: str = ""  # "", "forged", "expired", "used"

    @property
    def usable(self) -> bool:
        return self.consent is not None and not self.problem


def check_confirmation_token(token: str, *, now: datetime | None = None) -> TokenCheck:
    """What a confirmation link would do, without doing it (the page before the button)."""
    now = now or timezone.now()
    token_hash = hash_token(token or "")
    consent = Consent.objects.select_related("customer").filter(token_hash=token_hash).first()
    if consent is not None and consent.state == ConsentState.PENDING:
        if consent.token_expires_at and now > consent.token_expires_at:
            return TokenCheck(consent, "expired")
        return TokenCheck(consent)
    sent = ConsentRecord.objects.filter(action=ConsentAction.MAIL_SENT, token_hash=token_hash)
    record = sent.select_related("consent__customer").first()
    if record is None:
        return TokenCheck(None, "forged")
    confirmed = ConsentRecord.objects.filter(
        consent_id=record.consent_id, action=ConsentAction.CONFIRMED, token_hash=token_hash
    ).exists()
    return TokenCheck(record.consent, "used" if confirmed else "expired")


# Translated where shown (gettext_noop only marks them for the catalogue).
LINK_MESSAGES = {
    "forged": gettext_noop(
        "This confirmation link is not valid. Please copy the whole link from the mail."
    ),
    "expired": gettext_noop("This confirmation link has expired or was replaced by a newer one."),
    "used": gettext_noop("This sign-up has already been confirmed."),
}


@transaction.atomic
def confirm_consent(*, token: str, ip: str | None = None, now: datetime | None = None) -> Consent:
    """The click in the confirmation mail: the pending sign-up becomes an active consent.

    Publishes `consent.confirmed` (loyalty's newsletter points listen). A forged, expired or
    used link raises ConsentLinkError and changes nothing.
    """
    now = now or timezone.now()
    check = check_confirmation_token(token, now=now)
    if not check.usable:
        raise ConsentLinkError(check.problem, _(LINK_MESSAGES[check.problem]))
    consent = _locked_consent(check.consent.customer_id, check.consent.channel)
    if consent is None or consent.token_hash != hash_token(token):
        # Changed while we waited for the lock (a double click): say what it is now.
        problem = check_confirmation_token(token, now=now).problem or "expired"
        raise ConsentLinkError(problem, _(LINK_MESSAGES[problem]))
    token_hash = consent.token_hash
    consent.state = ConsentState.ACTIVE
    consent.confirmed_at = now
    consent.token_hash = ""
    consent.token_expires_at = None
    consent.save()
    _append(consent, ConsentAction.CONFIRMED, at=now, ip=ip, token_hash=token_hash)
    events.publish(
        CONSENT_CONFIRMED,
        customer=consent.customer,
        payload=_payload(consent),
        occurred_at=now,
    )
    return consent


# -- Preferences and withdrawal ----------------------------------------------------------------


@transaction.atomic
def update_preferences(
    *,
    customer,
    topics,
    frequency: str,
    channel: str = Channel.EMAIL,
    tracking: bool | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Consent:
    """Topics and frequency instead of leaving; only for an active permission.

    `tracking` (when given) says whether opens may be measured; it is kept in the history.
    """
    if frequency not in Frequency.values:
        raise ConsentError({"frequency": _("Please choose how often you want to hear from us.")})
    chosen = _topics(topics)
    now = now or timezone.now()
    consent = _locked_consent(customer.pk, channel)
    if consent is None or consent.state != ConsentState.ACTIVE:
        raise ConsentError(_("You are not signed up at the moment, so there is nothing to set."))
    consent.frequency = frequency
    if tracking is not None:
        consent.tracking = bool(tracking)
    consent.save()
    consent.topics.set(chosen)
    detail = {"topics": [t.name for t in chosen], "frequency": frequency}
    if tracking is not None:
        detail["tracking"] = bool(tracking)
    _append(consent, ConsentAction.PREFERENCES, at=now, ip=ip, detail=detail)
    return consent


@transaction.atomic
def withdraw_consent(
    *,
    customer,
    method: str,
    channel: str = Channel.EMAIL,
    reason: str = "",
    ip: str | None = None,
    staff_user=None,
    now: datetime | None = None,
) -> Consent:
    """Stop marketing on this channel at once (an unsubscribe, or an objection under §7(3)).

    Idempotent: a second unsubscribe of a withdrawn permission writes nothing. Without any
    permission the objection is still recorded, so the §7(3) basis can never be used later.
    """
    if method not in WithdrawalMethod.values:
        raise ValueError(f"Unknown withdrawal method {method!r}")
    now = now or timezone.now()
    consent = _locked_consent(customer.pk, channel)
    if consent is not None and consent.state == ConsentState.WITHDRAWN:
        return consent
    fields = {
        "state": ConsentState.WITHDRAWN,
        "withdrawn_at": now,
        "token_hash": "",
        "token_expires_at": None,
        # The permission to measure opens ends with the permission it belongs to; a new
        # sign-up starts without it again.
        "tracking": False,
    }
    if consent is None:
        consent = _new_consent(
            customer,
            channel,
            address=customer.email or "",
            legal_basis=LegalBasis.CONSENT,
            source=ConsentSource.BACKOFFICE if staff_user else ConsentSource.PAGE,
            **fields,
        )
    else:
        for name, value in fields.items():
            setattr(consent, name, value)
        consent.save()
    detail = {"staff": staff_user.get_username()} if staff_user else {}
    _append(
        consent,
        ConsentAction.WITHDRAWN,
        at=now,
        ip=ip,
        method=method,
        reason=reason.strip()[:500],
        detail=detail,
    )
    events.publish(
        CONSENT_WITHDRAWN,
        customer=customer,
        payload=_payload(consent, method=method),
        occurred_at=now,
    )
    return consent


@transaction.atomic
def record_withdrawal_reason(
    *, customer, reason: str, channel: str = Channel.EMAIL, now: datetime | None = None
) -> ConsentRecord:
    """The optional 'why are you leaving?' after an unsubscribe, as its own history row."""
    reason = reason.strip()
    if not reason:
        raise ConsentError({"reason": _("Please choose or write a reason.")})
    consent = _locked_consent(customer.pk, channel)
    if consent is None or consent.state != ConsentState.WITHDRAWN:
        raise ConsentError(_("You are still signed up; unsubscribe first."))
    last = consent.records.order_by("-occurred_at", "-id").first()
    method = last.method if last else ""
    return _append(
        consent,
        ConsentAction.WITHDRAWN,
        at=now or timezone.now(),
        method=method,
        reason=reason[:500],
        detail={"reason_only": True},
    )


# -- The §7(3) UWG basis -----------------------------------------------------------------------


@transaction.atomic
def record_existing_customer_basis(
    *,
    customer,
    source: str,
    text_version: int | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Consent:
    """Mail a buyer about similar products without consent (§7(3) UWG).

    Only for a customer with an order and an address, told of their right to object when
    the address was collected (`text_version`: the objection notice shown). Refused when
    they ever objected; an existing consent or pending sign-up is left as it is.
    """
    now = now or timezone.now()
    if not customer.email:
        raise ConsentError({"email": _("This customer has no email address.")})
    if not customer.order_count:
        raise ConsentError(
            _("The existing-customer exception needs a purchase; this customer has none.")
        )
    wording = _wording(Channel.EMAIL, LegalBasis.EXISTING_CUSTOMER, text_version)
    consent = _locked_consent(customer.pk, Channel.EMAIL)
    if consent is not None:
        if consent.state == ConsentState.WITHDRAWN:
            raise ConsentError(
                _("This customer has objected to advertising; that objection stands.")
            )
        if consent.state in (ConsentState.ACTIVE, ConsentState.PENDING):
            return consent
    fields = {
        "address": customer.email,
        "state": ConsentState.ACTIVE,
        "legal_basis": LegalBasis.EXISTING_CUSTOMER,
        "source": source,
        "wording": wording,
        "frequency": Frequency.ALL,
        "signed_up_at": now,
        "confirmation_sent_at": None,
        "confirmed_at": None,
        "withdrawn_at": None,
        "token_hash": "",
        "token_expires_at": None,
    }
    if consent is None:
        consent = _new_consent(customer, Channel.EMAIL, **fields)
    else:
        for name, value in fields.items():
            setattr(consent, name, value)
        consent.save()
    consent.topics.set([])
    _append(consent, ConsentAction.GRANTED, at=now, ip=ip)
    return consent


# -- Expiry of unconfirmed sign-ups (the daily job) --------------------------------------------


@transaction.atomic
def purge_unconfirmed(*, now: datetime | None = None, days: int | None = None) -> int:
    """Sign-ups not confirmed within `days` (TREU_CONSENT_PENDING_DAYS) expire: their link
    stops working and the address gets nothing. Set-based: one read, one insert, one update."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=pending_days() if days is None else days)
    due = list(
        Consent.objects.select_for_update().filter(
            state=ConsentState.PENDING, signed_up_at__lt=cutoff
        )
    )
    if not due:
        return 0
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            consent=c,
            customer_id=c.customer_id,
            channel=c.channel,
            action=ConsentAction.EXPIRED,
            state=ConsentState.EXPIRED,
            legal_basis=c.legal_basis,
            source=c.source,
            wording_id=c.wording_id,
            address=c.address,
            occurred_at=now,
        )
        for c in due
    )
    return Consent.objects.filter(pk__any_of=[c.pk for c in due]).update(
        state=ConsentState.EXPIRED, token_hash="", token_expires_at=None, updated_at=now
    )


# -- Consent texts and topics (the back office) ------------------------------------------------


@transaction.atomic
def publish_consent_text(*, channel: str, basis: str, wording: str, created_by=None) -> ConsentText:
    """A new version of a wording; forms show it from now on, older records keep theirs."""
    wording = wording.strip()
    if len(wording) < 20:
        raise ConsentError({"wording": _("Please write the full text the person agrees to.")})
    if channel not in Channel.values or basis not in LegalBasis.values:
        raise ValueError("Unknown channel or legal basis")
    texts = ConsentText.objects.select_for_update().filter(channel=channel, basis=basis)
    latest = texts.order_by("-version").first()
    if latest is not None and latest.wording == wording:
        raise ConsentError({"wording": _("This is the current text already; nothing changed.")})
    version = (texts.aggregate(v=Max("version"))["v"] or 0) + 1
    text = ConsentText(
        channel=channel, basis=basis, version=version, wording=wording, created_by=created_by
    )
    text.save()
    return text


TOPIC_FIELDS = ("name", "description", "position", "active", "similar_products")


@transaction.atomic
def save_topic(*, topic: Topic | None = None, **fields: Any) -> Topic:
    unknown = set(fields) - set(TOPIC_FIELDS)
    if unknown:
        raise TypeError(f"Not a topic field: {sorted(unknown)}")
    topic = topic or Topic()
    for name, value in fields.items():
        setattr(topic, name, value.strip() if isinstance(value, str) else value)
    if not topic.name:
        raise ConsentError({"name": _("Please give the topic a name.")})
    clash = Topic.objects.filter(name__iexact=topic.name).exclude(pk=topic.pk)
    if clash.exists():
        raise ConsentError({"name": _("A topic with this name already exists.")})
    topic.save()
    return topic


# -- Erasure and merging -----------------------------------------------------------------------


def address_hash(address: str) -> str:
    """What stays of an address in the proof after erasure: matchable, not readable."""
    if not address or address.startswith("sha256:"):
        return address
    return "sha256:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()


def erase_consents(customer) -> int:
    """Erasure: marketing stops (a withdrawal is appended), the proof stays minimised.

    The history is the legal proof of every mail sent (Art. 17(3)(e), 7(1) DSGVO): times,
    text versions, IP addresses and the way of withdrawal stay; the address becomes its
    hash and free-text reasons go.
    """
    touched = 0
    now = timezone.now()
    for consent in Consent.objects.select_for_update().filter(customer_id=customer.pk):
        if consent.state != ConsentState.WITHDRAWN:
            consent.state = ConsentState.WITHDRAWN
            consent.withdrawn_at = now
            _append(consent, ConsentAction.WITHDRAWN, at=now, method=WithdrawalMethod.ERASURE)
        consent.address = address_hash(consent.address)
        consent.token_hash = ""
        consent.token_expires_at = None
        consent.save()
        consent.topics.set([])
        touched += 1
    for address in set(
        ConsentRecord.objects.filter(customer_id=customer.pk).values_list("address", flat=True)
    ):
        ConsentRecord.objects.filter(customer_id=customer.pk, address=address).minimise(
            address=address_hash(address)
        )
    ConsentRecord.objects.filter(customer_id=customer.pk).exclude(reason="").minimise(reason="")
    return touched


_STRENGTH = {
    ConsentState.ACTIVE: 3,
    ConsentState.PENDING: 2,
    ConsentState.WITHDRAWN: 1,
    ConsentState.EXPIRED: 0,
}


def merge_consents(*, survivor, duplicate) -> int:
    """Merging customers: per channel one Consent survives, with both histories.

    The survivor keeps its own unless only the duplicate's is active (or pending); the
    other's history joins it and a `merged` record states the result, so the newest record
    still tells the current state. Runs inside merge_customers' transaction.
    """
    moved = 0
    now = timezone.now()
    for theirs in Consent.objects.select_for_update().filter(customer_id=duplicate.pk):
        mine = _locked_consent(survivor.pk, theirs.channel)
        if mine is None:
            moved += Consent.objects.filter(pk=theirs.pk).update(customer_id=survivor.pk)
            ConsentRecord.objects.filter(consent_id=theirs.pk).move_to_customer(survivor.pk)
            continue
        keep, drop = (
            (theirs, mine) if _STRENGTH[theirs.state] > _STRENGTH[mine.state] else (mine, theirs)
        )
        ConsentRecord.objects.filter(consent_id=drop.pk).move_to_consent(keep.pk, survivor.pk)
        ConsentRecord.objects.filter(consent_id=keep.pk).move_to_customer(survivor.pk)
        if keep.pk == theirs.pk:
            # The duplicate's row wins: it takes the survivor's place (one per channel).
            Consent.objects.filter(pk=mine.pk).delete()
            Consent.objects.filter(pk=keep.pk).update(customer_id=survivor.pk)
            keep.customer_id = survivor.pk
        else:
            Consent.objects.filter(pk=drop.pk).delete()
        _append(keep, ConsentAction.MERGED, at=now, detail={"merged_consent": drop.pk})
        moved += 1
    return moved


# -- The default wordings ----------------------------------------------------------------------

DEFAULT_WORDINGS = {
    LegalBasis.CONSENT: (
        "Ja, ich möchte den Newsletter per E-Mail erhalten: Neuigkeiten, Angebote und "
        "Wissenswertes rund um unsere Produkte. Meine Einwilligung kann ich jederzeit "
        "widerrufen, z. B. über den Abmeldelink in jeder E-Mail. Meine Daten werden nur dafür "
        "verwendet; mehr dazu in der Datenschutzerklärung."
    ),
    LegalBasis.EXISTING_CUSTOMER: (
        "Wir verwenden Ihre E-Mail-Adresse, um Ihnen Informationen zu eigenen ähnlichen "
        "Produkten zu senden. Sie können dieser Verwendung jederzeit widersprechen, ohne dass "
        "hierfür andere als die Übermittlungskosten nach den Basistarifen entstehen, z. B. über "
        "den Abmeldelink in jeder E-Mail."
    ),
}


@transaction.atomic
def ensure_default_consent_texts() -> int:
    """Version 1 of both German wordings where none exists, so the forms work from the start.

    Run after every migrate (and so after each flush of a transactional test); the owner
    publishes their own versions in the back office.
    """
    created = 0
    for basis, wording in DEFAULT_WORDINGS.items():
        if not ConsentText.objects.filter(channel=Channel.EMAIL, basis=basis).exists():
            ConsentText(channel=Channel.EMAIL, basis=basis, version=1, wording=wording).save()
            created += 1
    return created


def default_texts_after_migrate(sender, **kwargs) -> None:
    if sender.label == "messaging":
        ensure_default_consent_texts()
