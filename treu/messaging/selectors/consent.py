"""Reads of the consent part: who may get marketing, the proof, the overview."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from treu.customers import selectors as customer_selectors
from treu.messaging.consent_tokens import read_unsubscribe_token
from treu.messaging.models import (
    Channel,
    Consent,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentText,
    LegalBasis,
    Topic,
)


def _covers_topic(consent: Consent, topic: Topic | None) -> bool:
    # §7(3) UWG: only the shop's own similar products, so only topics marked as such.
    if consent.legal_basis == LegalBasis.EXISTING_CUSTOMER and (
        topic is None or not topic.similar_products
    ):
        return False
    if topic is None:
        return True
    chosen = {t.pk for t in consent.topics.all()}
    return not chosen or topic.pk in chosen


def may_send_marketing(customer, channel: str = Channel.EMAIL, topic: Topic | None = None) -> bool:
    """Whether this customer may get a marketing message on this channel (about `topic`).

    Needs an active permission for the customer's current address (a changed address is
    not covered), never for an erased customer; the same rule as
    `marketing_consent_condition`, which segments and campaigns use set-based.
    """
    if customer is None or getattr(customer, "erased_at", None) or not customer.email:
        return False
    if topic is not None and not topic.active:
        return False
    consent = Consent.objects.filter(
        customer_id=customer.pk, channel=channel, state=ConsentState.ACTIVE
    ).first()
    if consent is None or consent.address != customer.email:
        return False
    return _covers_topic(consent, topic)


def marketing_consent_condition(
    *, channel: str = Channel.EMAIL, topic: Topic | None = None, customer_path: str = ""
) -> Q:
    """The SQL condition "has valid marketing consent" as a Q over an EXISTS subquery.

    `Customer.objects.filter(marketing_consent_condition())`; from another model add the
    path to its customer: `customer_path="customer__"`. The same rule as may_send_marketing.
    """
    consents = Consent.objects.filter(
        customer_id=OuterRef(f"{customer_path}pk"),
        address=OuterRef(f"{customer_path}email"),
        channel=channel,
        state=ConsentState.ACTIVE,
    )
    if topic is not None and not topic.active:
        return Q(pk__in=[])
    if topic is None or not topic.similar_products:
        consents = consents.filter(legal_basis=LegalBasis.CONSENT)
    if topic is not None:
        chosen = Consent.topics.through.objects.filter(consent_id=OuterRef("pk"))
        mine = chosen.filter(topic_id=topic.pk)
        consents = consents.filter(~Exists(chosen) | Exists(mine))
    return Q(Exists(consents), **{f"{customer_path}erased_at__isnull": True})


def consent_of(customer, channel: str = Channel.EMAIL) -> Consent | None:
    return (
        Consent.objects.select_related("wording")
        .prefetch_related("topics")
        .filter(customer_id=customer.pk, channel=channel)
        .first()
    )


def consent_history(customer) -> list[ConsentRecord]:
    """The whole proof of one customer, oldest first, with the wordings shown."""
    return list(
        ConsentRecord.objects.filter(customer_id=customer.pk)
        .select_related("wording")
        .order_by("occurred_at", "id")
    )


def customer_for_proof(customer_id: int):
    return customer_selectors.customer_by_id(customer_id)


def current_text(channel: str = Channel.EMAIL, basis: str = LegalBasis.CONSENT):
    return ConsentText.objects.filter(channel=channel, basis=basis).order_by("-version").first()


def consent_texts() -> QuerySet[ConsentText]:
    return ConsentText.objects.select_related("created_by").annotate(used=Count("records"))


def offered_topics() -> QuerySet[Topic]:
    return Topic.objects.filter(active=True)


def all_topics() -> QuerySet[Topic]:
    return Topic.objects.all()


def topic_detail(topic_id: int) -> Topic:
    return Topic.objects.get(pk=topic_id)


@dataclass(frozen=True)
class UnsubscribeTarget:
    customer: object
    channel: str
    consent: Consent | None


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """Whose permission an unsubscribe or preference link is about; None when forged."""
    read = read_unsubscribe_token(token)
    if read is None or read[1] not in Channel.values:
        return None
    customer = customer_selectors.customer_by_id(read[0])
    if customer is None:
        return None
    consent = (
        Consent.objects.prefetch_related("topics")
        .filter(customer_id=customer.pk, channel=read[1])
        .first()
    )
    return UnsubscribeTarget(customer=customer, channel=read[1], consent=consent)


@dataclass(frozen=True)
class ConsentOverview:
    by_state: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    active_total: int
    recent_signups: list[ConsentRecord]
    pending: list[Consent]
    withdrawals: list[ConsentRecord]


def consent_overview(*, channel: str = Channel.EMAIL, limit: int = 20) -> ConsentOverview:
    """The counts (two GROUP BYs on indexed columns) and the latest rows of each kind."""
    states = dict(
        Consent.objects.filter(channel=channel)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    sources = dict(
        Consent.objects.filter(channel=channel, state=ConsentState.ACTIVE)
        .values_list("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    records = ConsentRecord.objects.filter(channel=channel).select_related("customer", "wording")
    return ConsentOverview(
        by_state=[(label, states.get(value, 0)) for value, label in ConsentState.choices],
        by_source=[
            (label, sources[value]) for value, label in ConsentSource.choices if sources.get(value)
        ],
        active_total=states.get(ConsentState.ACTIVE, 0),
        recent_signups=list(
            records.filter(action=ConsentAction.SIGNUP).order_by("-occurred_at", "-id")[:limit]
        ),
        pending=list(
            Consent.objects.filter(channel=channel, state=ConsentState.PENDING)
            .select_related("customer")
            .order_by("-signed_up_at", "-id")[:limit]
        ),
        withdrawals=list(
            records.filter(action=ConsentAction.WITHDRAWN).order_by("-occurred_at", "-id")[:limit]
        ),
    )
