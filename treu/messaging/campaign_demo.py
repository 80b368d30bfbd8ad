"""Campaigns of the demo roaster: two sent newsletters with results to look at.

"Kaffee des Monats" went to the regular customers three weeks before the history ends,
with a control group of 10 %; "Herbstauslese" five weeks before that tested two subjects
on 30 % of everyone with a newsletter consent and sent the winner to the rest. Both are
sent through the real campaign job (consent, control group, cap, rendering, outbox);
what a mail server and the recipients would have reported since is then written in
place: sent a few minutes after the planned moment, a few bounced, clicks and (only for
customers who allowed measuring them) opens, each decided by a fixed coin per mail so
the demo is the same on every build. Orders come from the demo's own history and are
attributed like any others.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from treu.messaging import services
from treu.messaging.models import (
    AbMetric,
    AbVariant,
    Campaign,
    Channel,
    Consent,
    ConsentState,
    DeliveryStatus,
    EventKind,
    Holdout,
    MailTemplate,
    MessageEvent,
    MessageStatus,
    OutboundMessage,
    Segment,
)

MONTHLY = "Kaffee des Monats"
AUTUMN = "Herbstauslese"
EVERYONE = "Alle mit Newsletter"


def _coin(key: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}|{key}".encode()).digest()[:4], "big") % 1000


def _template(name: str, subject: str, blocks: list[dict]) -> MailTemplate:
    found = MailTemplate.objects.filter(name=name).first()
    return found or services.save_mail_template(
        name=name, kind="marketing", subject=subject, blocks=blocks
    )


def _segment(name: str) -> Segment | None:
    from treu.messaging.segments import services as segment_services

    found = Segment.objects.filter(name=name).first()
    if found is None and name == EVERYONE:
        found = segment_services.save_segment(
            name=EVERYONE,
            description="Alle Kundinnen und Kunden; wer mailbar ist, entscheidet die Einwilligung.",
            rules_tree={"version": 1, "match": "all", "groups": []},
        )
    return found


def _after_the_fact(campaign: Campaign) -> None:
    """What the mail server and recipients reported: sent, delivered or bounced, opened
    (where allowed), clicked — fixed per mail."""
    rows = list(
        OutboundMessage.objects.filter(
            key__startswith=f"{campaign.prefix}:", status=MessageStatus.QUEUED
        ).only("pk", "key", "not_before", "customer_id")
    )
    tracking = set(
        Consent.objects.filter(
            channel=Channel.EMAIL, state=ConsentState.ACTIVE, tracking=True
        ).values_list("customer_id", flat=True)
    )
    events = []
    for message in rows:
        sent = message.not_before + timedelta(seconds=_coin(message.key, "sent") % 600)
        bounced = _coin(message.key, "bounce") < 15
        message.status, message.attempts, message.sent_at = MessageStatus.SENT, 1, sent
        message.delivery_status = DeliveryStatus.BOUNCED if bounced else DeliveryStatus.DELIVERED
        message.delivery_status_at = sent + timedelta(minutes=1)
        if bounced:
            continue
        better = 40 if ":b:" in message.key else 0  # the autumn test's subject B does better
        if message.customer_id in tracking and _coin(message.key, "open") < 380 + better:
            events.append(
                MessageEvent(
                    message_id=message.pk, kind=EventKind.OPEN, at=sent + timedelta(hours=2)
                )
            )
        if _coin(message.key, "click") < 60 + better:
            events.append(
                MessageEvent(
                    message_id=message.pk,
                    kind=EventKind.CLICK,
                    at=sent + timedelta(hours=3),
                    url="https://roesterei.example/kaffee-des-monats",
                )
            )
    OutboundMessage.objects.bulk_update(
        rows,
        ["status", "attempts", "sent_at", "delivery_status", "delivery_status_at"],
        batch_size=1000,
    )
    MessageEvent.objects.bulk_create(events)


def _send(campaign: Campaign, moment: datetime) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status="scheduled", due_at=moment)
    services.run_campaign(campaign.pk, now=moment)
    campaign.refresh_from_db()
    if campaign.status == "testing":
        _after_the_fact(campaign)
        decided = campaign.due_at
        services.run_campaign(campaign.pk, now=decided)
    _after_the_fact(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(
        finished_at=F("started_at") + timedelta(minutes=20)
    )


def finish() -> None:
    """The two campaigns, unless they exist (a second `demo` run keeps them)."""
    if Campaign.objects.filter(name__in=[MONTHLY, AUTUMN]).exists():
        return
    today = timezone.localdate()
    regulars = _segment("Stammkunden")
    everyone = _segment(EVERYONE)
    monthly = _template(
        "Kaffee des Monats",
        "{{ vorname|default:'Hallo' }}, unser Kaffee des Monats ist da",
        [
            {"type": "heading", "text": "Hallo {{ vorname|default:'liebe Kaffeefreunde' }}"},
            {"type": "text", "text": "Frisch aus dem Röster: ein Kolumbien mit Noten von Kakao "
             "und roter Kirsche. Als Stammkundin oder Stammkunde probieren Sie ihn zuerst."},
            {"type": "button", "label": "Jetzt probieren", "url": "shop:/kaffee-des-monats"},
        ],
    )  # fmt: skip
    autumn = _template(
        "Herbstauslese",
        "Unsere Herbstauslese ist da",
        [
            {"type": "heading", "text": "Die Herbstauslese"},
            {"type": "text", "text": "Drei Röstungen für kühle Tage – kräftig, würzig, "
             "mit langem Nachklang."},
            {"type": "button", "label": "Zur Herbstauslese", "url": "shop:/herbstauslese"},
        ],
    )  # fmt: skip
    plans = []
    if everyone is not None:
        plans.append(
            (
                services.CampaignInput(
                    name=AUTUMN, segment=everyone, mail_template=autumn, control_percent=10,
                    ab_variant=AbVariant.SUBJECT,
                    subject_b="{{ vorname|default:'Hallo' }}, drei Röstungen für kühle Tage",
                    ab_sample_percent=30, ab_wait_hours=4, ab_metric=AbMetric.CLICKS,
                ),
                today - timedelta(days=56),
            )
        )  # fmt: skip
    if regulars is not None:
        plans.append(
            (
                services.CampaignInput(
                    name=MONTHLY, segment=regulars, mail_template=monthly, control_percent=10
                ),
                today - timedelta(days=21),
            )
        )
    for data, day in plans:
        moment = timezone.make_aware(datetime.combine(day, time(10)))
        campaign = services.save_campaign(data=data, now=moment - timedelta(days=1))
        _send(campaign, moment)


def reset() -> None:
    """The campaigns, their mails, events and control groups (customers are going)."""
    prefixes = [c.prefix for c in Campaign.objects.all()]
    for prefix in prefixes:
        OutboundMessage.objects.filter(key__startswith=f"{prefix}:").delete()
        Holdout.objects.filter(prefix=prefix).delete()
    Campaign.objects.all().delete()
