"""The consent part of the demo roaster: a newsletter with a history.

About a third of the demo customers with an address signed up (the own page, the form in
the shop, the till) and confirmed by double opt-in minutes to a day later; about one in
twelve of them unsubscribed later, most with a reason; a few recent sign-ups still wait for
their confirmation. Written directly as Consent rows with the full append-only history (no
confirmation mails are sent for the past), with timeline events through
`events.record_history` (nobody reacts to history). IP addresses come from the ranges
reserved for documentation (RFC 5737). Seeded by the step's own random stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from treu.core import events
from treu.core.models import DomainEvent
from treu.messaging.consent_events import CONSENT_CONFIRMED, CONSENT_WITHDRAWN
from treu.messaging.consent_tokens import hash_token
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
    Topic,
    WithdrawalMethod,
)

if TYPE_CHECKING:
    from treu.demo.generator import ChunkContext

SIGNED_UP = 0.34
WITHDREW = 0.08
PENDING = 0.01
TOPICS = (
    ("Neuigkeiten", "Neue Röstungen und was in der Rösterei passiert", True),
    ("Angebote", "Rabatte und Aktionen für Abonnentinnen und Abonnenten", True),
    ("Kaffeewissen", "Zubereitung, Herkunft, Röstprofile", False),
)
SOURCES = (
    (ConsentSource.EMBED, 55),
    (ConsentSource.PAGE, 20),
    (ConsentSource.CASHIER, 15),
    (ConsentSource.PORTAL, 10),
)
REASONS = (
    "Zu viele E-Mails",
    "Die Inhalte passen nicht zu mir",
    "Ich trinke keinen Kaffee mehr",
    "",
    "",
)
NETS = ("192.0.2", "198.51.100", "203.0.113")


def reset() -> None:
    ConsentRecord.objects.all().wipe_for_demo()
    Consent.objects.all().delete()


def _topics() -> list[Topic]:
    return [
        Topic.objects.get_or_create(
            name=name,
            defaults={"description": about, "position": n, "similar_products": similar},
        )[0]
        for n, (name, about, similar) in enumerate(TOPICS)
    ]


def _ip(ctx: ChunkContext) -> str:
    return f"{ctx.rng.choice(NETS)}.{ctx.rng.randint(1, 254)}"


def chunk(ctx: ChunkContext) -> None:
    wording = (
        ConsentText.objects.filter(channel=Channel.EMAIL, basis=LegalBasis.CONSENT)
        .order_by("version")
        .first()
    )
    if wording is None:
        return  # the migration's default text was deleted by hand: no demo newsletter
    topics = _topics()
    end = ctx.timeline.end_at
    sources = [s for s, _ in SOURCES]
    weights = [w for _, w in SOURCES]
    plans = []
    for customer in ctx.customers:
        roll = ctx.rng.random()
        if not customer.email or roll >= SIGNED_UP + PENDING:
            continue
        pending = roll >= SIGNED_UP
        if pending:
            signed_up = end - timedelta(
                days=ctx.rng.randint(1, 10), minutes=ctx.rng.randint(0, 900)
            )
        else:
            signed_up = min(customer.created_at + timedelta(minutes=ctx.rng.randint(1, 600)), end)
        plans.append((customer, pending, signed_up, ctx.rng.choices(sources, weights)[0]))
    consents, histories = [], []
    for customer, pending, signed_up, source in plans:
        confirmed = None if pending else signed_up + timedelta(minutes=ctx.rng.randint(1, 1440))
        withdrawn = None
        if confirmed and ctx.rng.random() < WITHDREW and confirmed < end - timedelta(days=2):
            span = max(int((end - confirmed).total_seconds() // 60), 2)
            withdrawn = confirmed + timedelta(minutes=ctx.rng.randint(1, span - 1))
        state = (
            ConsentState.PENDING
            if pending
            else ConsentState.WITHDRAWN
            if withdrawn
            else ConsentState.ACTIVE
        )
        chosen = ctx.rng.sample(topics, ctx.rng.choice((0, 0, 1, 2)))
        frequency = ctx.rng.choice(
            (Frequency.ALL, Frequency.ALL, Frequency.WEEKLY, Frequency.MONTHLY)
        )
        # Seeded like the rest (a real token is random; nobody holds a demo link's token).
        token_hash = hash_token(f"demo-{ctx.rng.getrandbits(64)}")
        consents.append(
            Consent(
                customer=customer,
                channel=Channel.EMAIL,
                address=customer.email,
                state=state,
                legal_basis=LegalBasis.CONSENT,
                source=source,
                wording=wording,
                frequency=frequency,
                signed_up_at=signed_up,
                confirmation_sent_at=signed_up,
                confirmed_at=confirmed,
                withdrawn_at=withdrawn,
                token_hash=token_hash if pending else "",
                token_expires_at=signed_up + timedelta(days=30) if pending else None,
            )
        )
        histories.append((chosen, frequency, signed_up, confirmed, withdrawn, token_hash, source))
    Consent.objects.bulk_create(consents)
    records, links, past = [], [], []
    through = Consent.topics.through
    for consent, history in zip(consents, histories, strict=True):
        chosen, frequency, signed_up, confirmed, withdrawn, token_hash, source = history
        links.extend(through(consent_id=consent.pk, topic_id=t.pk) for t in chosen)

        def record(action, state, at, consent=consent, **fields):
            return ConsentRecord(
                consent=consent,
                customer_id=consent.customer_id,
                channel=Channel.EMAIL,
                action=action,
                state=state,
                legal_basis=LegalBasis.CONSENT,
                source=consent.source,
                wording=wording,
                address=consent.address,
                occurred_at=at,
                **fields,
            )

        pending = ConsentState.PENDING
        detail = {"topics": [t.name for t in chosen], "frequency": frequency}
        ip = None if source == ConsentSource.CASHIER else _ip(ctx)
        records.append(record(ConsentAction.SIGNUP, pending, signed_up, ip=ip, detail=detail))
        records.append(record(ConsentAction.MAIL_SENT, pending, signed_up, token_hash=token_hash))
        payload = {"channel": "email", "purpose": PURPOSE_NEWSLETTER, "consent_id": consent.pk}
        if confirmed:
            records.append(
                record(
                    ConsentAction.CONFIRMED,
                    ConsentState.ACTIVE,
                    confirmed,
                    ip=_ip(ctx),
                    token_hash=token_hash,
                )
            )
            past.append(_event(CONSENT_CONFIRMED, consent, confirmed, payload))
        if withdrawn:
            method = ctx.rng.choice((WithdrawalMethod.ONE_CLICK, WithdrawalMethod.LINK))
            records.append(
                record(
                    ConsentAction.WITHDRAWN,
                    ConsentState.WITHDRAWN,
                    withdrawn,
                    method=method,
                    reason=ctx.rng.choice(REASONS),
                )
            )
            past.append(
                _event(CONSENT_WITHDRAWN, consent, withdrawn, {**payload, "method": method})
            )
    through.objects.bulk_create(links)
    ConsentRecord.objects.bulk_create(records)
    from treu.demo.generator import timestamps_as_given

    with timestamps_as_given(DomainEvent):  # recorded when it occurred, like the history
        events.record_history(past)


def _event(kind: str, consent: Consent, at: datetime, payload: dict) -> DomainEvent:
    payload = {**payload, "legal_basis": LegalBasis.CONSENT, "source": consent.source}
    return DomainEvent(
        kind=kind,
        customer_id=consent.customer_id,
        occurred_at=at,
        recorded_at=at,
        source="demo",
        payload=payload,
    )
